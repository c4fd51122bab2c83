#include "rendezvous/enr/enr_record.h"

#include <algorithm>
#include <cassert>
#include <cstring>

#include "rendezvous/enr/base64url.h"
#include "rendezvous/identity/keccak.h"

namespace rdv::enr {

const char* describe(EnrError e) {
  switch (e) {
    case EnrError::MissingPrefix: return "record text must start with \"enr:\"";
    case EnrError::BadBase64: return "record text is not unpadded URL-safe base64";
    case EnrError::TooLarge: return "record larger than 300 bytes";
    case EnrError::MalformedRlp: return "record is not canonical RLP";
    case EnrError::NotAList: return "record is not an RLP list";
    case EnrError::BadShape: return "record must be [signature, seq, key, value, ...] with byte-string keys";
    case EnrError::BadSeq: return "record seq is not a canonical 64-bit integer";
    case EnrError::KeysNotSorted: return "record keys are not sorted";
    case EnrError::DuplicateKey: return "record has a duplicate key";
    case EnrError::MissingId: return "record has no \"id\" key";
    case EnrError::UnsupportedScheme: return "record identity scheme is not \"v4\"";
    case EnrError::MissingPublicKey: return "record has no \"secp256k1\" key";
    case EnrError::BadPublicKey: return "record \"secp256k1\" is not a valid compressed public key";
    case EnrError::BadSignature: return "record signature does not verify";
    case EnrError::InvalidValue: return "record value is not a single canonical RLP item";
    case EnrError::SigningFailed: return "record signing failed";
  }
  return "unknown record error";
}

namespace {

// Orders keys as raw bytes (shorter prefix first), the order EIP-778 requires.
int compareKeys(ByteSpan a, ByteSpan b) {
  const int c = std::memcmp(a.data(), b.data(), std::min(a.size(), b.size()));
  if (c != 0) return c;
  return a.size() < b.size() ? -1 : (a.size() > b.size() ? 1 : 0);
}

// The key/value items after [signature, seq]: byte-string keys, strictly increasing.
Result<bool, EnrError> checkKeys(const std::vector<RlpItem>& items) {
  for (size_t i = 2; i < items.size(); i += 2) {
    if (items[i].isList) return unexpected(EnrError::BadShape);
    if (i == 2) continue;
    const int order = compareKeys(items[i - 2].payload, items[i].payload);
    if (order == 0) return unexpected(EnrError::DuplicateKey);
    if (order > 0) return unexpected(EnrError::KeysNotSorted);
  }
  return true;
}

const RlpItem* findValue(const std::vector<RlpItem>& items, std::string_view key) {
  for (size_t i = 2; i + 1 < items.size(); i += 2) {
    if (asString(items[i].payload) == key) return &items[i + 1];
  }
  return nullptr;
}

// The v4 scheme: "id" = "v4", "secp256k1" = compressed key, signature over keccak256(content).
Result<identity::PublicKey, EnrError> verifyV4(const std::vector<RlpItem>& items, const RlpItem& list) {
  const RlpItem* id = findValue(items, "id");
  if (id == nullptr) return unexpected(EnrError::MissingId);
  if (id->isList || asString(id->payload) != "v4") return unexpected(EnrError::UnsupportedScheme);
  const RlpItem* keyItem = findValue(items, "secp256k1");
  if (keyItem == nullptr) return unexpected(EnrError::MissingPublicKey);
  if (keyItem->isList || keyItem->payload.size() != 33) return unexpected(EnrError::BadPublicKey);
  auto key = identity::PublicKey::parse(keyItem->payload);
  if (!key) return unexpected(EnrError::BadPublicKey);

  const RlpItem& sig = items[0];
  if (sig.isList || sig.payload.size() != 64) return unexpected(EnrError::BadSignature);
  Bytes content;
  content.reserve(list.payload.size() + 3);
  encodeList(content, list.payload.subspan(sig.encoded.size()));
  if (!key->verify(identity::keccak256(content), sig.payload)) return unexpected(EnrError::BadSignature);
  return *key;
}

}  // namespace

EnrRecord::EnrRecord(Bytes encoded, uint64_t seq, const identity::PublicKey& key, Range signature,
                     std::vector<KeyValue> entries)
    : encoded_(std::move(encoded)),
      seq_(seq),
      publicKey_(key),
      nodeId_(key.nodeId()),
      signature_(signature),
      entries_(std::move(entries)) {}

Result<EnrRecord, EnrError> EnrRecord::decode(ByteSpan rlp) {
  if (rlp.size() > kMaxRecordSize) return unexpected(EnrError::TooLarge);
  auto list = decodeItem(rlp);
  if (!list) return unexpected(EnrError::MalformedRlp);
  if (!list->isList) return unexpected(EnrError::NotAList);
  auto items = decodeListItems(list->payload);
  if (!items) return unexpected(EnrError::MalformedRlp);
  if (items->size() < 2 || items->size() % 2 != 0) return unexpected(EnrError::BadShape);
  auto seq = decodeUint((*items)[1]);
  if (!seq) return unexpected(EnrError::BadSeq);
  if (auto keys = checkKeys(*items); !keys) return unexpected(keys.error());
  auto key = verifyV4(*items, *list);
  if (!key) return unexpected(key.error());

  // Offsets fit in uint16_t: the record is at most 300 bytes.
  auto range = [&](ByteSpan s) {
    return Range{static_cast<uint16_t>(s.data() - rlp.data()), static_cast<uint16_t>(s.size())};
  };
  std::vector<KeyValue> entries;
  entries.reserve((items->size() - 2) / 2);
  for (size_t i = 2; i < items->size(); i += 2) {
    entries.push_back({range((*items)[i].payload), range((*items)[i + 1].encoded)});
  }
  return EnrRecord(Bytes(rlp.begin(), rlp.end()), *seq, *key, range((*items)[0].payload), std::move(entries));
}

Result<EnrRecord, EnrError> EnrRecord::fromText(std::string_view text) {
  if (!text.starts_with(kTextPrefix)) return unexpected(EnrError::MissingPrefix);
  text.remove_prefix(kTextPrefix.size());
  // 300 bytes take 400 digits; refuse longer text before decoding it.
  if (text.size() > (kMaxRecordSize * 4 + 2) / 3) return unexpected(EnrError::TooLarge);
  auto raw = base64UrlDecode(text);
  if (!raw) return unexpected(EnrError::BadBase64);
  return decode(*raw);
}

std::string EnrRecord::toText() const { return std::string(kTextPrefix) + base64UrlEncode(encoded_); }

Bytes EnrRecord::content() const {
  // The record list payload minus its first item (the signature, a 64-byte string: 0xb8 0x40 ...).
  size_t consumed = 0;
  auto list = decodeHeader(encoded_, consumed);
  assert(list.ok());
  const size_t sigItemSize = signature_.offset + signature_.length - (list->payload.data() - encoded_.data());
  Bytes out;
  encodeList(out, list->payload.subspan(sigItemSize));
  return out;
}

std::vector<EnrRecord::Entry> EnrRecord::entries() const {
  std::vector<Entry> out;
  out.reserve(entries_.size());
  for (const auto& kv : entries_) out.push_back({keyAt(kv), slice(kv.value)});
  return out;
}

std::optional<ByteSpan> EnrRecord::rawValue(std::string_view key) const {
  auto it = std::lower_bound(entries_.begin(), entries_.end(), key, [&](const KeyValue& kv, std::string_view k) {
    return compareKeys(asBytes(keyAt(kv)), asBytes(k)) < 0;
  });
  if (it == entries_.end() || keyAt(*it) != key) return std::nullopt;
  return slice(it->value);
}

std::optional<ByteSpan> EnrRecord::bytes(std::string_view key) const {
  auto raw = rawValue(key);
  if (!raw) return std::nullopt;
  size_t consumed = 0;
  auto item = decodeHeader(*raw, consumed);
  if (!item || item->isList) return std::nullopt;
  return item->payload;
}

std::optional<std::string_view> EnrRecord::text(std::string_view key) const {
  auto b = bytes(key);
  if (!b) return std::nullopt;
  return asString(*b);
}

std::optional<uint64_t> EnrRecord::uint(std::string_view key) const {
  auto raw = rawValue(key);
  if (!raw) return std::nullopt;
  size_t consumed = 0;
  auto item = decodeHeader(*raw, consumed);
  if (!item) return std::nullopt;
  auto v = decodeUint(*item);
  if (!v) return std::nullopt;
  return *v;
}

std::optional<uint16_t> EnrRecord::port(std::string_view key) const {
  auto v = uint(key);
  if (!v || *v > 0xFFFF) return std::nullopt;
  return static_cast<uint16_t>(*v);
}

std::optional<std::array<uint8_t, 4>> EnrRecord::ip() const {
  auto b = bytes("ip");
  if (!b || b->size() != 4) return std::nullopt;
  std::array<uint8_t, 4> out;
  std::copy(b->begin(), b->end(), out.begin());
  return out;
}

std::optional<std::array<uint8_t, 16>> EnrRecord::ip6() const {
  auto b = bytes("ip6");
  if (!b || b->size() != 16) return std::nullopt;
  std::array<uint8_t, 16> out;
  std::copy(b->begin(), b->end(), out.begin());
  return out;
}

}  // namespace rdv::enr
