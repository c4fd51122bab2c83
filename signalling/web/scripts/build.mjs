// npm run build: one self-contained ES module, dist/rendezvous.js (the @noble libraries bundled in),
// then a check that no bare import is left in it.
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';

await build({
  entryPoints: ['src/index.js'],
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: ['es2022'],
  outfile: 'dist/rendezvous.js',
  legalComments: 'inline',
  logLevel: 'warning',
});

const out = readFileSync('dist/rendezvous.js', 'utf8');
const bare = out.match(/(?:^|[\s;])(?:import|export)\s[^;]*?from\s*["'](?![./])[^"']+["']|import\(\s*["'](?![./])[^"']+["']\s*\)/m);
if (bare) {
  console.error(`dist/rendezvous.js still has a bare import: ${bare[0].trim()}`);
  process.exit(1);
}
console.log(`dist/rendezvous.js: ${out.length} bytes, no bare imports`);
