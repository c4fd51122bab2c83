// JSON text with uint64 fields: BigInt values are written as plain integers (JSON.stringify refuses
// them). Parsing keeps numbers as JSON.parse does; the frames check they are safe integers.

/** @param {unknown} value @returns {string} */
export function jsonText(value) {
  if (typeof value === 'bigint') return value.toString();
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return '[' + value.map((v) => jsonText(v)).join(',') + ']';
  const parts = [];
  for (const [k, v] of Object.entries(value)) {
    if (v === undefined) continue;
    parts.push(JSON.stringify(k) + ':' + jsonText(v));
  }
  return '{' + parts.join(',') + '}';
}

/** JSON.parse that returns undefined instead of throwing. */
export function parseJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
