// A small, strict CBOR codec (RFC 8949) for the compact signalling wire (rdv.cbor.1,
// docs/signalling.md "Compact wire"). Only what the frames use is accepted:
//   unsigned and negative integers, byte and text strings, arrays, maps, false, true, null.
// Decoding is strict, so that one message has one encoding and a hostile peer cannot make the decoder
// work hard (RFC 8949 §4.2.1, core deterministic encoding, and §5.3, validity):
//   - definite lengths only (indefinite-length items are refused);
//   - every integer and length in its shortest form;
//   - map keys are integers or text strings, in strictly increasing bytewise order of their encodings
//     (so no duplicates);
//   - text strings are valid UTF-8;
//   - no tags, floats, undefined or other simple values;
//   - bounded: nesting depth, item count, and every length against the bytes actually left;
//   - exactly one item, no trailing bytes.
// Why not libcbor (Debian's libcbor 0.8): its decoder builds a heap item per data item, accepts
// indefinite lengths and non-shortest integers with no switch to refuse them, and has no depth or
// count bound; the checks above would have been a second pass over its tree. docs/dependencies.md.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rendezvous/base/bytes.h"
#include "rendezvous/base/result.h"

namespace rdv::signalling::cbor {

enum class Type : uint8_t { Unsigned, Negative, Bytes, Text, Array, Map, False, True, Null };

enum class CborError {
  Truncated,       // the input ends inside an item
  TrailingBytes,   // bytes after the one top-level item
  Reserved,        // additional information 28-30 (not well-formed)
  Indefinite,      // an indefinite-length string, array or map
  NotShortest,     // an integer, length or simple value not in its shortest form
  Tag,             // a tag (major type 6): none is used
  Unsupported,     // a float, undefined or another simple value
  BadUtf8,         // a text string that is not valid UTF-8
  TooDeep,         // nesting deeper than Limits::maxDepth
  TooManyItems,    // more than Limits::maxItems data items
  KeyOrder,        // map keys not in strictly increasing order (or duplicated)
  KeyType,         // a map key that is not an integer or a text string
};

const char* describe(CborError e);

struct Limits {
  size_t maxDepth = 8;     // arrays/maps inside arrays/maps
  size_t maxItems = 1024;  // data items in one message, keys and values counted
};

// One decoded data item. Strings are views into the decoded input, which must outlive the Value.
struct Value {
  Type type = Type::Null;
  // Unsigned: the value; Negative: n for the integer -1 - n; Bytes/Text/Array: the length; Map: pairs.
  uint64_t number = 0;
  ByteSpan bytes;            // Bytes and Text payloads
  std::vector<Value> items;  // Array: elements; Map: key, value, key, value, ...

  std::string_view text() const { return asString(bytes); }
  // For a map: the value of the unsigned integer key `key`, or null.
  const Value* find(uint64_t key) const;
};

Result<Value, CborError> decode(ByteSpan in, const Limits& limits = {});

// Appends deterministic encodings to `out`. The writer does not track structure: a map(n) must be
// followed by n keys and values, in increasing key order, which the frame encoders do by construction.
class Writer {
 public:
  explicit Writer(std::string& out) : out_(out) {}
  void unsignedInt(uint64_t v) { head(0, v); }
  void negativeInt(uint64_t n) { head(1, n); }  // the integer -1 - n
  void integer(int64_t v);
  void bytes(ByteSpan b);
  void text(std::string_view s);
  void array(uint64_t n) { head(4, n); }
  void map(uint64_t pairs) { head(5, pairs); }
  void boolean(bool b) { out_.push_back(static_cast<char>(b ? 0xf5 : 0xf4)); }
  void null() { out_.push_back(static_cast<char>(0xf6)); }

 private:
  void head(uint8_t major, uint64_t v);
  std::string& out_;
};

// A decoded Value written back: the same bytes it was decoded from (decoding accepts only
// deterministic encodings), which the tests and the fuzz target check.
void write(Writer& w, const Value& v);
std::string encode(const Value& v);

// The size of a head (major type and argument) for `v`: 1, 2, 3, 5 or 9 bytes.
size_t headSize(uint64_t v);

}  // namespace rdv::signalling::cbor
