// MessageView: parsing and typed attribute getters (RFC 8489 §5, §14). The builder is in
// message_builder.cpp.
#include "stun/message.h"

#include <algorithm>
#include <cstring>

#include "stun/integrity.h"

namespace rdv::stun {

std::string_view toString(ParseError e) {
  switch (e) {
    case ParseError::TooShort: return "too short";
    case ParseError::NotStun: return "not STUN";
    case ParseError::BadLength: return "bad length";
    case ParseError::AttributeOverrun: return "attribute overrun";
    case ParseError::TooManyAttributes: return "too many attributes";
    case ParseError::DuplicateFingerprint: return "duplicate FINGERPRINT";
    case ParseError::AttributeAfterFingerprint: return "attribute after FINGERPRINT";
    case ParseError::AttributeAfterIntegrity: return "attribute after MESSAGE-INTEGRITY";
    case ParseError::BadFingerprint: return "bad FINGERPRINT";
    case ParseError::BadChannelNumber: return "bad channel number";
  }
  return "unknown";
}

namespace {

// Attribute order rules (RFC 8489 §14.5-14.7): nothing but MI-SHA256 and FINGERPRINT after
// MESSAGE-INTEGRITY, nothing but FINGERPRINT after MI-SHA256, nothing after FINGERPRINT.
struct OrderState {
  bool integrity = false;
  bool integritySha256 = false;
  bool fingerprint = false;

  std::optional<ParseError> accept(uint16_t type) {
    if (fingerprint) {
      return type == attr::Fingerprint ? ParseError::DuplicateFingerprint : ParseError::AttributeAfterFingerprint;
    }
    if (integritySha256 && type != attr::Fingerprint) return ParseError::AttributeAfterIntegrity;
    if (integrity && type != attr::Fingerprint && type != attr::MessageIntegritySha256) {
      return ParseError::AttributeAfterIntegrity;
    }
    integrity |= type == attr::MessageIntegrity;
    integritySha256 |= type == attr::MessageIntegritySha256;
    fingerprint |= type == attr::Fingerprint;
    return std::nullopt;
  }
};

constexpr size_t padded(size_t n) { return (n + 3) & ~size_t{3}; }

}  // namespace

Result<MessageView, ParseError> MessageView::parse(ByteSpan bytes) {
  if (bytes.size() < kHeaderSize) return unexpected(ParseError::TooShort);
  if ((bytes[0] & 0xC0) != 0) return unexpected(ParseError::NotStun);
  const size_t length = loadBe16(bytes.data() + 2);
  if (length % 4 != 0) return unexpected(ParseError::BadLength);
  if (bytes.size() < kHeaderSize + length) return unexpected(ParseError::TooShort);
  if (bytes.size() > kHeaderSize + length) return unexpected(ParseError::BadLength);

  MessageView m;
  m.raw_ = bytes;
  m.type_ = loadBe16(bytes.data());
  m.cookie_ = loadBe32(bytes.data() + 4);
  std::memcpy(m.tid_.bytes.data(), bytes.data() + 8, m.tid_.bytes.size());

  OrderState order;
  size_t offset = kHeaderSize;
  while (offset < bytes.size()) {
    if (bytes.size() - offset < 4) return unexpected(ParseError::AttributeOverrun);
    const uint16_t type = loadBe16(bytes.data() + offset);
    const size_t valueLength = loadBe16(bytes.data() + offset + 2);
    if (padded(valueLength) > bytes.size() - offset - 4) return unexpected(ParseError::AttributeOverrun);
    if (auto err = order.accept(type)) return unexpected(*err);
    if (m.count_ == kMaxAttributes) return unexpected(ParseError::TooManyAttributes);
    m.attrs_[m.count_++] = Attribute{type, static_cast<uint32_t>(offset), bytes.subspan(offset + 4, valueLength)};
    offset += 4 + padded(valueLength);
  }

  if (order.fingerprint) {
    // FINGERPRINT is last, so the header's length already ends after it (RFC 8489 §14.7).
    const Attribute& fp = m.attrs_[m.count_ - 1];
    if (fp.value.size() != 4) return unexpected(ParseError::BadFingerprint);
    if (loadBe32(fp.value.data()) != fingerprintOf(bytes.first(fp.offset))) {
      return unexpected(ParseError::BadFingerprint);
    }
  }
  return m;
}

const Attribute* MessageView::find(uint16_t type) const {
  for (size_t i = 0; i < count_; ++i) {
    if (attrs_[i].type == type) return &attrs_[i];
  }
  return nullptr;
}

namespace {

// MAPPED-ADDRESS layout (RFC 8489 §14.1): 0, family, port, address. When `mask` is set, port and
// address are XORed with it (XOR-MAPPED-ADDRESS, §14.2): the first 2 bytes mask the port, the
// following 4 (IPv4) or 16 (IPv6) bytes mask the address.
std::optional<Endpoint> decodeAddress(ByteSpan v, const uint8_t* mask) {
  if (v.size() < 4) return std::nullopt;
  const uint8_t family = v[1];
  uint16_t port = loadBe16(v.data() + 2);
  if (mask != nullptr) port ^= loadBe16(mask);
  if (family == static_cast<uint8_t>(Family::V4) && v.size() == 8) {
    std::array<uint8_t, 4> ip;
    for (size_t i = 0; i < 4; ++i) ip[i] = v[4 + i] ^ (mask != nullptr ? mask[i] : 0);
    return Endpoint(IpAddress::v4(ip), port);
  }
  if (family == static_cast<uint8_t>(Family::V6) && v.size() == 20) {
    std::array<uint8_t, 16> ip;
    for (size_t i = 0; i < 16; ++i) ip[i] = v[4 + i] ^ (mask != nullptr ? mask[i] : 0);
    return Endpoint(IpAddress::v6(ip), port);
  }
  return std::nullopt;
}

// The XOR mask: magic cookie followed by the transaction id.
std::array<uint8_t, 16> xorMask(const TransactionId& tid) {
  std::array<uint8_t, 16> mask;
  storeBe32(mask.data(), kMagicCookie);
  std::memcpy(mask.data() + 4, tid.bytes.data(), tid.bytes.size());
  return mask;
}

std::optional<Family> decodeFamily(ByteSpan v) {
  if (v.size() != 4) return std::nullopt;
  if (v[0] == static_cast<uint8_t>(Family::V4)) return Family::V4;
  if (v[0] == static_cast<uint8_t>(Family::V6)) return Family::V6;
  return std::nullopt;
}

size_t maxStringLength(uint16_t type) { return type == attr::Username ? 512 : 763; }

}  // namespace

std::optional<Endpoint> MessageView::xorAddress(uint16_t type) const {
  const Attribute* a = find(type);
  if (a == nullptr || !hasMagicCookie()) return std::nullopt;
  const auto mask = xorMask(tid_);
  return decodeAddress(a->value, mask.data());
}

std::vector<Endpoint> MessageView::xorAddresses(uint16_t type) const {
  std::vector<Endpoint> out;
  if (!hasMagicCookie()) return out;
  const auto mask = xorMask(tid_);
  for (const Attribute& a : attributes()) {
    if (a.type != type) continue;
    auto ep = decodeAddress(a.value, mask.data());
    if (!ep) return {};
    out.push_back(*ep);
  }
  return out;
}

std::optional<Endpoint> MessageView::address(uint16_t type) const {
  const Attribute* a = find(type);
  if (a == nullptr) return std::nullopt;
  return decodeAddress(a->value, nullptr);
}

std::optional<uint32_t> MessageView::u32(uint16_t type) const {
  const Attribute* a = find(type);
  if (a == nullptr || a->value.size() != 4) return std::nullopt;
  return loadBe32(a->value.data());
}

std::optional<uint64_t> MessageView::u64(uint16_t type) const {
  const Attribute* a = find(type);
  if (a == nullptr || a->value.size() != 8) return std::nullopt;
  return (uint64_t{loadBe32(a->value.data())} << 32) | loadBe32(a->value.data() + 4);
}

std::optional<std::string_view> MessageView::string(uint16_t type) const {
  const Attribute* a = find(type);
  if (a == nullptr || a->value.size() > maxStringLength(type)) return std::nullopt;
  return asString(a->value);
}

std::optional<ErrorCodeValue> MessageView::errorCode() const {
  // RFC 8489 §14.8: 21 reserved bits, class (3 bits, 3-6), number (0-99), reason phrase.
  const Attribute* a = find(attr::ErrorCode);
  if (a == nullptr || a->value.size() < 4 || a->value.size() > 4 + 763) return std::nullopt;
  const uint8_t cls = a->value[2] & 0x07;
  const uint8_t number = a->value[3];
  if (cls < 3 || cls > 6 || number > 99) return std::nullopt;
  return ErrorCodeValue{static_cast<uint16_t>(cls * 100 + number), asString(a->value.subspan(4))};
}

std::optional<uint16_t> MessageView::channelNumber() const {
  const Attribute* a = find(attr::ChannelNumber);
  if (a == nullptr || a->value.size() != 4) return std::nullopt;
  return loadBe16(a->value.data());
}

std::optional<uint8_t> MessageView::requestedTransport() const {
  const Attribute* a = find(attr::RequestedTransport);
  if (a == nullptr || a->value.size() != 4) return std::nullopt;
  return a->value[0];
}

std::optional<Family> MessageView::requestedAddressFamily() const {
  const Attribute* a = find(attr::RequestedAddressFamily);
  return a == nullptr ? std::nullopt : decodeFamily(a->value);
}

std::optional<Family> MessageView::additionalAddressFamily() const {
  const Attribute* a = find(attr::AdditionalAddressFamily);
  return a == nullptr ? std::nullopt : decodeFamily(a->value);
}

std::optional<bool> MessageView::evenPort() const {
  const Attribute* a = find(attr::EvenPort);
  if (a == nullptr || a->value.size() != 1) return std::nullopt;
  return (a->value[0] & 0x80) != 0;
}

std::optional<ChangeRequestValue> MessageView::changeRequest() const {
  const Attribute* a = find(attr::ChangeRequest);
  if (a == nullptr || a->value.size() != 4) return std::nullopt;
  const uint32_t flags = loadBe32(a->value.data());
  return ChangeRequestValue{(flags & 0x4) != 0, (flags & 0x2) != 0};
}

std::optional<uint16_t> MessageView::responsePort() const {
  const Attribute* a = find(attr::ResponsePort);
  if (a == nullptr || a->value.size() != 4) return std::nullopt;
  return loadBe16(a->value.data());
}

std::optional<ByteSpan> MessageView::data() const {
  const Attribute* a = find(attr::Data);
  if (a == nullptr) return std::nullopt;
  return a->value;
}

std::vector<uint16_t> MessageView::unknownAttributes() const {
  std::vector<uint16_t> out;
  const Attribute* a = find(attr::UnknownAttributes);
  if (a == nullptr || a->value.size() % 2 != 0) return out;
  for (size_t i = 0; i < a->value.size(); i += 2) out.push_back(loadBe16(a->value.data() + i));
  return out;
}

std::vector<PasswordAlgorithm> MessageView::passwordAlgorithms() const {
  // RFC 8489 §14.11: a list of (algorithm, parameters length, parameters padded to 4).
  std::vector<PasswordAlgorithm> out;
  const Attribute* a = find(attr::PasswordAlgorithms);
  if (a == nullptr) return out;
  ByteSpan v = a->value;
  while (!v.empty()) {
    if (v.size() < 4) return {};
    const size_t paramLength = padded(loadBe16(v.data() + 2));
    if (paramLength > v.size() - 4) return {};
    out.push_back(static_cast<PasswordAlgorithm>(loadBe16(v.data())));
    v = v.subspan(4 + paramLength);
  }
  return out;
}

std::optional<PasswordAlgorithm> MessageView::passwordAlgorithm() const {
  const Attribute* a = find(attr::PasswordAlgorithm);
  if (a == nullptr || a->value.size() < 4) return std::nullopt;
  if (loadBe16(a->value.data() + 2) != a->value.size() - 4) return std::nullopt;
  return static_cast<PasswordAlgorithm>(loadBe16(a->value.data()));
}

std::vector<uint16_t> MessageView::unknownComprehensionRequired(std::span<const uint16_t> known) const {
  std::vector<uint16_t> out;
  for (const Attribute& a : attributes()) {
    if (!isComprehensionRequired(a.type)) continue;
    if (std::find(known.begin(), known.end(), a.type) != known.end()) continue;
    if (std::find(out.begin(), out.end(), a.type) != out.end()) continue;
    out.push_back(a.type);
  }
  return out;
}

}  // namespace rdv::stun
