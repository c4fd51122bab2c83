#include "signalling/cbor/cbor.h"

#include <algorithm>

namespace rdv::signalling::cbor {

namespace {

bool validUtf8(ByteSpan s) {
  size_t i = 0;
  const size_t n = s.size();
  while (i < n) {
    const uint8_t c = s[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len = 0;
    uint32_t cp = 0;
    if ((c & 0xe0) == 0xc0) {
      len = 2;
      cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      len = 3;
      cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (n - i < len) return false;
    for (size_t k = 1; k < len; ++k) {
      if ((s[i + k] & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (s[i + k] & 0x3f);
    }
    // Overlong forms, surrogates and code points past U+10FFFF are not UTF-8 (RFC 3629).
    static constexpr uint32_t kMin[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += len;
  }
  return true;
}

class Decoder {
 public:
  Decoder(ByteSpan in, const Limits& limits) : in_(in), limits_(limits) {}

  Result<Value, CborError> top() {
    auto v = item(0);
    if (!v) return v;
    if (pos_ != in_.size()) return unexpected(CborError::TrailingBytes);
    return v;
  }

 private:
  // The head of an item: major type and argument, in shortest form.
  Result<bool, CborError> head(uint8_t& major, uint8_t& info, uint64_t& arg) {
    if (pos_ >= in_.size()) return unexpected(CborError::Truncated);
    const uint8_t initial = in_[pos_++];
    major = initial >> 5;
    info = initial & 0x1f;
    if (info < 24) {
      arg = info;
      return true;
    }
    if (info == 31) return unexpected(major == 7 ? CborError::Unsupported : CborError::Indefinite);
    if (info > 27) return unexpected(CborError::Reserved);
    const size_t width = size_t{1} << (info - 24);  // 1, 2, 4, 8
    if (in_.size() - pos_ < width) return unexpected(CborError::Truncated);
    arg = 0;
    for (size_t k = 0; k < width; ++k) arg = (arg << 8) | in_[pos_ + k];
    pos_ += width;
    if (major == 7) return true;  // floats and simple values are judged by the caller
    // Shortest form (RFC 8949 §4.2.1): each width only for values the smaller one cannot hold.
    static constexpr uint64_t kMinForWidth[4] = {24, 0x100, 0x10000, 0x100000000ull};
    if (arg < kMinForWidth[info - 24]) return unexpected(CborError::NotShortest);
    return true;
  }

  Result<Value, CborError> item(size_t depth) {
    if (++items_ > limits_.maxItems) return unexpected(CborError::TooManyItems);
    uint8_t major = 0, info = 0;
    uint64_t arg = 0;
    if (auto h = head(major, info, arg); !h) return unexpected(h.error());
    Value v;
    v.number = arg;
    switch (major) {
      case 0: v.type = Type::Unsigned; return v;
      case 1: v.type = Type::Negative; return v;
      case 2:
      case 3: {
        if (arg > in_.size() - pos_) return unexpected(CborError::Truncated);
        v.type = major == 2 ? Type::Bytes : Type::Text;
        v.bytes = in_.subspan(pos_, static_cast<size_t>(arg));
        pos_ += static_cast<size_t>(arg);
        if (v.type == Type::Text && !validUtf8(v.bytes)) return unexpected(CborError::BadUtf8);
        return v;
      }
      case 4:
      case 5: {
        if (depth + 1 > limits_.maxDepth) return unexpected(CborError::TooDeep);
        const bool isMap = major == 5;
        // Every item takes at least one byte: a count beyond what is left is truncated input, found
        // before anything is reserved for it.
        const uint64_t count = isMap ? arg * 2 : arg;
        if ((isMap && arg > (in_.size() - pos_) / 2) || count > in_.size() - pos_) return unexpected(CborError::Truncated);
        if (count > limits_.maxItems) return unexpected(CborError::TooManyItems);
        v.type = isMap ? Type::Map : Type::Array;
        v.items.reserve(static_cast<size_t>(count));
        ByteSpan previousKey;
        for (uint64_t k = 0; k < count; ++k) {
          const size_t at = pos_;
          auto child = item(depth + 1);
          if (!child) return child;
          if (isMap && k % 2 == 0) {
            if (child->type != Type::Unsigned && child->type != Type::Negative && child->type != Type::Text)
              return unexpected(CborError::KeyType);
            const ByteSpan key = in_.subspan(at, pos_ - at);
            if (k > 0 && !keyBefore(previousKey, key)) return unexpected(CborError::KeyOrder);
            previousKey = key;
          }
          v.items.push_back(std::move(*child));
        }
        return v;
      }
      case 6: return unexpected(CborError::Tag);
      default: break;
    }
    // Major type 7: false, true, null only. A one-byte simple value below 32 is not well-formed.
    if (info == 24) return unexpected(arg < 32 ? CborError::NotShortest : CborError::Unsupported);
    switch (info) {
      case 20: v.type = Type::False; return v;
      case 21: v.type = Type::True; return v;
      case 22: v.type = Type::Null; return v;
      default: return unexpected(CborError::Unsupported);
    }
  }

  // Bytewise lexicographic order of the encoded keys (RFC 8949 §4.2.1).
  static bool keyBefore(ByteSpan a, ByteSpan b) {
    const size_t n = std::min(a.size(), b.size());
    for (size_t i = 0; i < n; ++i) {
      if (a[i] != b[i]) return a[i] < b[i];
    }
    return a.size() < b.size();
  }

  ByteSpan in_;
  Limits limits_;
  size_t pos_ = 0;
  size_t items_ = 0;
};

}  // namespace

const char* describe(CborError e) {
  switch (e) {
    case CborError::Truncated: return "truncated";
    case CborError::TrailingBytes: return "trailing bytes";
    case CborError::Reserved: return "reserved additional information";
    case CborError::Indefinite: return "indefinite length";
    case CborError::NotShortest: return "not in shortest form";
    case CborError::Tag: return "tag";
    case CborError::Unsupported: return "unsupported simple value or float";
    case CborError::BadUtf8: return "text not UTF-8";
    case CborError::TooDeep: return "nested too deep";
    case CborError::TooManyItems: return "too many items";
    case CborError::KeyOrder: return "map keys out of order or repeated";
    case CborError::KeyType: return "map key not an integer or text";
  }
  return "cbor error";
}

const Value* Value::find(uint64_t key) const {
  if (type != Type::Map) return nullptr;
  for (size_t i = 0; i + 1 < items.size(); i += 2) {
    if (items[i].type == Type::Unsigned && items[i].number == key) return &items[i + 1];
  }
  return nullptr;
}

Result<Value, CborError> decode(ByteSpan in, const Limits& limits) { return Decoder(in, limits).top(); }

void write(Writer& w, const Value& v) {
  switch (v.type) {
    case Type::Unsigned: w.unsignedInt(v.number); return;
    case Type::Negative: w.negativeInt(v.number); return;
    case Type::Bytes: w.bytes(v.bytes); return;
    case Type::Text: w.text(v.text()); return;
    case Type::Array: w.array(v.items.size()); break;
    case Type::Map: w.map(v.items.size() / 2); break;
    case Type::False: w.boolean(false); return;
    case Type::True: w.boolean(true); return;
    case Type::Null: w.null(); return;
  }
  for (const auto& item : v.items) write(w, item);
}

std::string encode(const Value& v) {
  std::string out;
  Writer w(out);
  write(w, v);
  return out;
}

size_t headSize(uint64_t v) {
  if (v < 24) return 1;
  if (v <= 0xff) return 2;
  if (v <= 0xffff) return 3;
  if (v <= 0xffffffffull) return 5;
  return 9;
}

void Writer::head(uint8_t major, uint64_t v) {
  const auto m = static_cast<uint8_t>(major << 5);
  const size_t size = headSize(v);
  if (size == 1) {
    out_.push_back(static_cast<char>(m | v));
    return;
  }
  static constexpr uint8_t kInfo[10] = {0, 0, 24, 25, 0, 26, 0, 0, 0, 27};
  out_.push_back(static_cast<char>(m | kInfo[size]));
  for (size_t k = size - 1; k > 0; --k) out_.push_back(static_cast<char>(v >> (8 * (k - 1))));
}

void Writer::integer(int64_t v) {
  if (v >= 0) {
    unsignedInt(static_cast<uint64_t>(v));
  } else {
    negativeInt(static_cast<uint64_t>(-(v + 1)));
  }
}

void Writer::bytes(ByteSpan b) {
  head(2, b.size());
  out_.append(reinterpret_cast<const char*>(b.data()), b.size());
}

void Writer::text(std::string_view s) {
  head(3, s.size());
  out_.append(s);
}

}  // namespace rdv::signalling::cbor
