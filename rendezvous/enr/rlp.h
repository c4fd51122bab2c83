// Recursive Length Prefix (RLP), the Ethereum serialization used by ENR. Strict decoding: every
// length canonical (single bytes < 0x80 as themselves, short forms when they fit, no leading zero
// bytes in long lengths), no bytes after the item, bounded nesting, bounds checked everywhere.
// Decoded items are views into the input buffer, which must outlive them.
#pragma once

#include <cstdint>
#include <vector>

#include "rendezvous/base/bytes.h"
#include "rendezvous/base/result.h"

namespace rdv::enr {

enum class RlpError {
  Empty,                // no input where an item was expected
  Truncated,            // a header or payload runs past the end of the input
  NonCanonicalSingle,   // a single byte < 0x80 wrapped in a 0x81 header
  NonCanonicalLength,   // long form used for a payload shorter than 56 bytes
  LeadingZeroLength,    // long-form length with a leading zero byte
  LengthOverflow,       // length field wider than 8 bytes or not addressable
  TrailingBytes,        // input continues after the top-level item
  TooDeep,              // lists nested beyond the limit
  ExpectedList,         // a byte string where a list is required
  ExpectedString,       // a list where a byte string is required
  LeadingZeroInteger,   // integer with a leading zero byte (zero is the empty string)
  IntegerTooLarge,      // integer wider than 64 bits
};

const char* describe(RlpError e);

inline constexpr int kMaxRlpDepth = 16;

struct RlpItem {
  bool isList = false;
  ByteSpan payload;  // a string's bytes, or a list's concatenated encoded items
  ByteSpan encoded;  // the whole item, header included
};

// One item at the start of `in`; `consumed` tells how many bytes it occupied. Checks the header
// only: a list's contents are not examined.
Result<RlpItem, RlpError> decodeHeader(ByteSpan in, size_t& consumed);

// Exactly one item filling `in`, validated recursively down to `maxDepth` levels of lists.
Result<RlpItem, RlpError> decodeItem(ByteSpan in, int maxDepth = kMaxRlpDepth);

// The items of a list (given its payload), each validated recursively (depth counts this list).
Result<std::vector<RlpItem>, RlpError> decodeListItems(ByteSpan listPayload, int maxDepth = kMaxRlpDepth);

// A canonical unsigned integer (big-endian, no leading zeros, at most 8 bytes) from a string item.
Result<uint64_t, RlpError> decodeUint(const RlpItem& item);

// Encoders append to `out`.
void encodeString(Bytes& out, ByteSpan bytes);
void encodeUint(Bytes& out, uint64_t value);
// Wraps already-encoded items (`payload`) into a list.
void encodeList(Bytes& out, ByteSpan payload);

}  // namespace rdv::enr
