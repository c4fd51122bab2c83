#include "rendezvous/enr/rlp.h"

namespace rdv::enr {

const char* describe(RlpError e) {
  switch (e) {
    case RlpError::Empty: return "RLP: empty input";
    case RlpError::Truncated: return "RLP: item runs past the end of the input";
    case RlpError::NonCanonicalSingle: return "RLP: single byte below 0x80 must encode as itself";
    case RlpError::NonCanonicalLength: return "RLP: long length form used for a short payload";
    case RlpError::LeadingZeroLength: return "RLP: length with a leading zero byte";
    case RlpError::LengthOverflow: return "RLP: length too large";
    case RlpError::TrailingBytes: return "RLP: trailing bytes after the item";
    case RlpError::TooDeep: return "RLP: lists nested too deeply";
    case RlpError::ExpectedList: return "RLP: expected a list";
    case RlpError::ExpectedString: return "RLP: expected a byte string";
    case RlpError::LeadingZeroInteger: return "RLP: integer with a leading zero byte";
    case RlpError::IntegerTooLarge: return "RLP: integer wider than 64 bits";
  }
  return "RLP: unknown error";
}

namespace {

// Reads a long-form length of `width` bytes at in[1..]; checks canonical form.
Result<size_t, RlpError> readLongLength(ByteSpan in, size_t width) {
  if (width > 8) return unexpected(RlpError::LengthOverflow);
  if (in.size() < 1 + width) return unexpected(RlpError::Truncated);
  if (in[1] == 0) return unexpected(RlpError::LeadingZeroLength);
  uint64_t len = 0;
  for (size_t i = 0; i < width; ++i) len = (len << 8) | in[1 + i];
  if (len < 56) return unexpected(RlpError::NonCanonicalLength);
  if (len > in.size()) return unexpected(RlpError::Truncated);  // also keeps size_t arithmetic safe
  return static_cast<size_t>(len);
}

}  // namespace

Result<RlpItem, RlpError> decodeHeader(ByteSpan in, size_t& consumed) {
  if (in.empty()) return unexpected(RlpError::Empty);
  const uint8_t b = in[0];
  size_t headerSize = 1;
  size_t payloadSize = 0;
  bool isList = false;
  if (b < 0x80) {
    consumed = 1;
    return RlpItem{false, in.first(1), in.first(1)};
  } else if (b <= 0xB7) {
    payloadSize = b - 0x80;
    if (payloadSize == 1 && in.size() >= 2 && in[1] < 0x80) return unexpected(RlpError::NonCanonicalSingle);
  } else if (b < 0xC0) {
    auto len = readLongLength(in, b - 0xB7);
    if (!len) return unexpected(len.error());
    headerSize += b - 0xB7;
    payloadSize = *len;
  } else if (b <= 0xF7) {
    isList = true;
    payloadSize = b - 0xC0;
  } else {
    isList = true;
    auto len = readLongLength(in, b - 0xF7);
    if (!len) return unexpected(len.error());
    headerSize += b - 0xF7;
    payloadSize = *len;
  }
  if (in.size() < headerSize || in.size() - headerSize < payloadSize) return unexpected(RlpError::Truncated);
  consumed = headerSize + payloadSize;
  return RlpItem{isList, in.subspan(headerSize, payloadSize), in.first(consumed)};
}

Result<std::vector<RlpItem>, RlpError> decodeListItems(ByteSpan listPayload, int maxDepth) {
  if (maxDepth <= 0) return unexpected(RlpError::TooDeep);
  std::vector<RlpItem> items;
  while (!listPayload.empty()) {
    size_t consumed = 0;
    auto item = decodeHeader(listPayload, consumed);
    if (!item) return unexpected(item.error());
    if (item->isList) {
      auto inner = decodeListItems(item->payload, maxDepth - 1);
      if (!inner) return unexpected(inner.error());
    }
    items.push_back(*item);
    listPayload = listPayload.subspan(consumed);
  }
  return items;
}

Result<RlpItem, RlpError> decodeItem(ByteSpan in, int maxDepth) {
  size_t consumed = 0;
  auto item = decodeHeader(in, consumed);
  if (!item) return item;
  if (consumed != in.size()) return unexpected(RlpError::TrailingBytes);
  if (item->isList) {
    auto inner = decodeListItems(item->payload, maxDepth);
    if (!inner) return unexpected(inner.error());
  }
  return item;
}

Result<uint64_t, RlpError> decodeUint(const RlpItem& item) {
  if (item.isList) return unexpected(RlpError::ExpectedString);
  if (item.payload.size() > 8) return unexpected(RlpError::IntegerTooLarge);
  if (!item.payload.empty() && item.payload[0] == 0) return unexpected(RlpError::LeadingZeroInteger);
  uint64_t v = 0;
  for (uint8_t b : item.payload) v = (v << 8) | b;
  return v;
}

namespace {

void appendHeader(Bytes& out, uint8_t shortBase, size_t length) {
  if (length < 56) {
    out.push_back(static_cast<uint8_t>(shortBase + length));
    return;
  }
  uint8_t width = 0;
  for (size_t l = length; l != 0; l >>= 8) ++width;
  out.push_back(static_cast<uint8_t>(shortBase + 55 + width));
  for (int i = width - 1; i >= 0; --i) out.push_back(static_cast<uint8_t>(length >> (8 * i)));
}

}  // namespace

void encodeString(Bytes& out, ByteSpan bytes) {
  if (bytes.size() == 1 && bytes[0] < 0x80) {
    out.push_back(bytes[0]);
    return;
  }
  appendHeader(out, 0x80, bytes.size());
  out.insert(out.end(), bytes.begin(), bytes.end());
}

void encodeUint(Bytes& out, uint64_t value) {
  uint8_t buf[8];
  int n = 0;
  for (uint64_t v = value; v != 0; v >>= 8) ++n;
  for (int i = 0; i < n; ++i) buf[i] = static_cast<uint8_t>(value >> (8 * (n - 1 - i)));
  encodeString(out, ByteSpan(buf, static_cast<size_t>(n)));
}

void encodeList(Bytes& out, ByteSpan payload) {
  appendHeader(out, 0xC0, payload.size());
  out.insert(out.end(), payload.begin(), payload.end());
}

}  // namespace rdv::enr
