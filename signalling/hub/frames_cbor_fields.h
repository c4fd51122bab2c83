// Internal to the compact framing (frames_cbor.cpp, frames_cbor_pubsub.cpp): the writer's frame
// header and the decoder's view of one flat frame map by integer key. Not a public interface.
#pragma once

#include <array>
#include <cstring>
#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

#include "signalling/cbor/cbor.h"
#include "signalling/hub/frames.h"
#include "signalling/hub/frames_cbor.h"

namespace rdv::signalling::cbor_frames {

inline constexpr size_t kMaxKey = 9;

using Decoded = Result<Frame, FrameError>;
inline Decoded malformed() { return unexpected(FrameError{FrameErrorKind::Malformed}); }

// A map of `pairs` pairs whose first is key 0, the frame type; the rest follow in increasing key order.
inline void begin(cbor::Writer& w, CborFrameType type, size_t pairs) {
  w.map(pairs);
  w.unsignedInt(0);
  w.unsignedInt(static_cast<uint8_t>(type));
}

// A list of node ids as one byte string of 32 * n bytes (no nesting in a frame).
inline void writeNodes(cbor::Writer& w, const std::vector<NodeId>& ids) {
  std::string joined;
  joined.reserve(ids.size() * 32);
  for (const auto& id : ids) joined.append(reinterpret_cast<const char*>(id.bytes.data()), id.bytes.size());
  w.bytes(asBytes(joined));
}

// One frame map being written: begin()'s header, then a key and its value per call. The encoders call
// them in increasing key order and pass the number of pairs they write, optional fields included.
class FrameMap {
 public:
  FrameMap(cbor::Writer& w, CborFrameType type, size_t pairs) : w_(w) { begin(w_, type, pairs); }
  FrameMap& uint(uint64_t key, uint64_t v) {
    w_.unsignedInt(key);
    w_.unsignedInt(v);
    return *this;
  }
  FrameMap& bytes(uint64_t key, ByteSpan v) {
    w_.unsignedInt(key);
    w_.bytes(v);
    return *this;
  }
  FrameMap& text(uint64_t key, std::string_view v) {
    w_.unsignedInt(key);
    w_.text(v);
    return *this;
  }
  FrameMap& nodes(uint64_t key, const std::vector<NodeId>& ids) {
    w_.unsignedInt(key);
    writeNodes(w_, ids);
    return *this;
  }
  // Optional fields: written only when present (one encoding per frame); `true` is the only flag value.
  FrameMap& flag(uint64_t key, bool set) {
    if (set) {
      w_.unsignedInt(key);
      w_.boolean(true);
    }
    return *this;
  }
  FrameMap& optionalText(uint64_t key, const std::optional<std::string>& v) { return v ? text(key, *v) : *this; }
  FrameMap& optionalUint(uint64_t key, const std::optional<uint64_t>& v) { return v ? uint(key, *v) : *this; }
  FrameMap& optionalNode(uint64_t key, const std::optional<NodeId>& v) { return v ? bytes(key, v->bytes) : *this; }

 private:
  cbor::Writer& w_;
};

// The frame's values by key (1..kMaxKey). Keys are unsigned and increasing (the CBOR decoder checked
// the order).
struct Fields {
  std::array<const cbor::Value*, kMaxKey + 1> at{};

  template <size_t N>
  bool bytes(size_t key, std::array<uint8_t, N>& out) const {
    const cbor::Value* v = at[key];
    if (!v || v->type != cbor::Type::Bytes || v->bytes.size() != N) return false;
    std::memcpy(out.data(), v->bytes.data(), N);
    return true;
  }
  bool uint(size_t key, uint64_t& out) const {
    const cbor::Value* v = at[key];
    if (!v || v->type != cbor::Type::Unsigned) return false;
    out = v->number;
    return true;
  }
  bool text(size_t key, std::string& out) const {
    const cbor::Value* v = at[key];
    if (!v || v->type != cbor::Type::Text) return false;
    out.assign(v->text());
    return true;
  }
  // Optional fields: absent is fine (out stays nullopt); present must read as the type.
  bool text(size_t key, std::optional<std::string>& out) const {
    if (!at[key]) return true;
    return text(key, out.emplace());
  }
  bool uint(size_t key, std::optional<uint64_t>& out) const {
    if (!at[key]) return true;
    return uint(key, out.emplace());
  }
  bool node(size_t key, std::optional<NodeId>& out) const {
    if (!at[key]) return true;
    return bytes(key, out.emplace().bytes);
  }
  // A byte string of 32 * n bytes, n <= max.
  bool nodes(size_t key, size_t max, std::vector<NodeId>& out) const {
    const cbor::Value* v = at[key];
    if (!v || v->type != cbor::Type::Bytes || v->bytes.size() % 32 != 0 || v->bytes.size() / 32 > max) return false;
    out.resize(v->bytes.size() / 32);
    for (size_t i = 0; i < out.size(); ++i) std::memcpy(out[i].bytes.data(), v->bytes.data() + 32 * i, 32);
    return true;
  }
};

// Fills `f` from the map; false when a key is not one of `allowed` (a bit mask of key numbers).
inline bool collect(const cbor::Value& map, uint32_t allowed, Fields& f) {
  for (size_t i = 2; i + 1 < map.items.size(); i += 2) {  // items[0..1] is key 0, the type
    const cbor::Value& key = map.items[i];
    if (key.type != cbor::Type::Unsigned || key.number > kMaxKey || !(allowed & (1u << key.number))) return false;
    f.at[key.number] = &map.items[i + 1];
  }
  return true;
}

constexpr uint32_t keys(std::initializer_list<unsigned> ks) {
  uint32_t m = 0;
  for (unsigned k : ks) m |= 1u << k;
  return m;
}

// Topic and presence frames (frames_cbor_pubsub.cpp).
bool writePubSub(cbor::Writer& w, const Frame& f);  // false: not one of them
// nullopt: `type` is not a topic or presence frame type.
std::optional<Decoded> decodePubSub(uint64_t type, const cbor::Value& map);

}  // namespace rdv::signalling::cbor_frames
