// MessageBuilder (RFC 8489 §5, §14) and transaction ids.
#include <openssl/rand.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "stun/integrity.h"
#include "stun/message.h"

namespace rdv::stun {

namespace {
constexpr size_t kMaxBody = 0xFFFF & ~size_t{3};  // the length field is 16 bits and a multiple of 4
constexpr size_t padded(size_t n) { return (n + 3) & ~size_t{3}; }
}  // namespace

MessageBuilder::MessageBuilder(uint16_t type, const TransactionId& tid, uint32_t cookie)
    : MessageBuilder(type, tid, cookie, Bytes()) {}

MessageBuilder::MessageBuilder(uint16_t type, const TransactionId& tid, uint32_t cookie, Bytes buffer)
    : out_(std::move(buffer)) {
  out_.clear();
  out_.reserve(256);  // a 401 with REALM, NONCE, PASSWORD-ALGORITHMS and FINGERPRINT is ~150 bytes
  appendBe16(out_, static_cast<uint16_t>(type & 0x3FFF));
  appendBe16(out_, 0);
  appendBe32(out_, cookie);
  out_.insert(out_.end(), tid.bytes.begin(), tid.bytes.end());
}

MessageBuilder MessageBuilder::responseTo(const MessageView& request, Class c) {
  return MessageBuilder(messageType(request.method(), c), request.transactionId(), request.cookie());
}

MessageBuilder MessageBuilder::responseTo(const MessageView& request, Class c, Bytes buffer) {
  return MessageBuilder(messageType(request.method(), c), request.transactionId(), request.cookie(), std::move(buffer));
}

void MessageBuilder::setLength(size_t bodyLength) { storeBe16(out_.data() + 2, static_cast<uint16_t>(bodyLength)); }

// True when an attribute with a value of `valueLength` bytes still fits; records the overflow otherwise.
bool MessageBuilder::reserve(size_t valueLength) {
  const size_t body = out_.size() - kHeaderSize;
  if (valueLength > kMaxBody || body + 4 + padded(valueLength) > kMaxBody) {
    overflowed_ = true;
    return false;
  }
  return true;
}

MessageBuilder& MessageBuilder::add(uint16_t type, ByteSpan value) {
  if (!reserve(value.size())) return *this;
  appendBe16(out_, type);
  appendBe16(out_, static_cast<uint16_t>(value.size()));
  out_.insert(out_.end(), value.begin(), value.end());
  out_.resize(out_.size() + padded(value.size()) - value.size(), 0);
  setLength(out_.size() - kHeaderSize);
  return *this;
}

MessageBuilder& MessageBuilder::addU32(uint16_t type, uint32_t v) {
  uint8_t b[4];
  storeBe32(b, v);
  return add(type, b);
}

MessageBuilder& MessageBuilder::addU64(uint16_t type, uint64_t v) {
  uint8_t b[8];
  storeBe32(b, static_cast<uint32_t>(v >> 32));
  storeBe32(b + 4, static_cast<uint32_t>(v));
  return add(type, b);
}

MessageBuilder& MessageBuilder::addAddress(uint16_t type, const Endpoint& ep) {
  uint8_t b[20] = {};
  b[1] = static_cast<uint8_t>(ep.family());
  storeBe16(b + 2, ep.port());
  std::memcpy(b + 4, ep.ip().data(), ep.ip().size());
  return add(type, ByteSpan(b, 4 + ep.ip().size()));
}

MessageBuilder& MessageBuilder::addXorAddress(uint16_t type, const Endpoint& ep) {
  // RFC 8489 §14.2: port XOR the cookie's top 16 bits; address XOR cookie || transaction id.
  uint8_t mask[16];
  storeBe32(mask, kMagicCookie);
  std::memcpy(mask + 4, out_.data() + 8, 12);
  uint8_t b[20] = {};
  b[1] = static_cast<uint8_t>(ep.family());
  storeBe16(b + 2, static_cast<uint16_t>(ep.port() ^ (kMagicCookie >> 16)));
  for (size_t i = 0; i < ep.ip().size(); ++i) b[4 + i] = ep.ip().data()[i] ^ mask[i];
  return add(type, ByteSpan(b, 4 + ep.ip().size()));
}

MessageBuilder& MessageBuilder::addErrorCode(uint16_t code, std::string_view reason) {
  if (reason.empty()) reason = reasonPhrase(code);
  if (reason.size() > 763) reason = reason.substr(0, 763);
  uint8_t v[4 + 763] = {0, 0, static_cast<uint8_t>((code / 100) & 0x07), static_cast<uint8_t>(code % 100)};
  std::memcpy(v + 4, reason.data(), reason.size());
  return add(attr::ErrorCode, ByteSpan(v, 4 + reason.size()));
}

MessageBuilder& MessageBuilder::addUnknownAttributes(std::span<const uint16_t> types) {
  Bytes v;
  for (uint16_t t : types) appendBe16(v, t);
  return add(attr::UnknownAttributes, v);
}

MessageBuilder& MessageBuilder::addChannelNumber(uint16_t channel) {
  return addU32(attr::ChannelNumber, uint32_t{channel} << 16);
}

MessageBuilder& MessageBuilder::addRequestedTransport(uint8_t protocol) {
  return addU32(attr::RequestedTransport, uint32_t{protocol} << 24);
}

MessageBuilder& MessageBuilder::addRequestedAddressFamily(Family f) {
  return addU32(attr::RequestedAddressFamily, uint32_t{static_cast<uint8_t>(f)} << 24);
}

MessageBuilder& MessageBuilder::addAdditionalAddressFamily(Family f) {
  return addU32(attr::AdditionalAddressFamily, uint32_t{static_cast<uint8_t>(f)} << 24);
}

MessageBuilder& MessageBuilder::addEvenPort(bool reserveNext) {
  const uint8_t b = reserveNext ? 0x80 : 0x00;
  return add(attr::EvenPort, ByteSpan(&b, 1));
}

MessageBuilder& MessageBuilder::addChangeRequest(ChangeRequestValue v) {
  return addU32(attr::ChangeRequest, (v.changeIp ? 0x4u : 0u) | (v.changePort ? 0x2u : 0u));
}

MessageBuilder& MessageBuilder::addResponsePort(uint16_t port) {
  return addU32(attr::ResponsePort, uint32_t{port} << 16);
}

MessageBuilder& MessageBuilder::addPasswordAlgorithms(std::span<const PasswordAlgorithm> algs) {
  uint8_t v[4 * 16];  // on the stack: every 401 and 438 carries this list
  const size_t n = std::min<size_t>(algs.size(), 16);
  for (size_t i = 0; i < n; ++i) {
    storeBe16(v + 4 * i, static_cast<uint16_t>(algs[i]));
    storeBe16(v + 4 * i + 2, 0);  // MD5 and SHA-256 take no parameters
  }
  return add(attr::PasswordAlgorithms, ByteSpan(v, 4 * n));
}

MessageBuilder& MessageBuilder::addPasswordAlgorithm(PasswordAlgorithm alg) {
  return addU32(attr::PasswordAlgorithm, uint32_t{static_cast<uint16_t>(alg)} << 16);
}

MessageBuilder& MessageBuilder::addPadding(size_t length) {
  if (!reserve(length)) return *this;
  return add(attr::Padding, Bytes(length, 0));
}

// RFC 8489 §14.5/§14.6: the header length counts up to the end of the integrity attribute while the
// HMAC is computed over everything that precedes the attribute.
void MessageBuilder::appendIntegrity(uint16_t type, ByteSpan key, bool sha256) {
  const size_t macSize = sha256 ? 32 : 20;
  if (!reserve(macSize)) return;
  setLength(out_.size() - kHeaderSize + 4 + macSize);
  uint8_t mac[32];
  if (sha256) {
    hmacSha256(key, out_, mac);
  } else {
    hmacSha1(key, out_, reinterpret_cast<uint8_t(&)[20]>(mac));
  }
  add(type, ByteSpan(mac, macSize));
}

MessageBuilder& MessageBuilder::addMessageIntegrity(ByteSpan key) {
  appendIntegrity(attr::MessageIntegrity, key, false);
  return *this;
}

MessageBuilder& MessageBuilder::addMessageIntegritySha256(ByteSpan key) {
  appendIntegrity(attr::MessageIntegritySha256, key, true);
  return *this;
}

MessageBuilder& MessageBuilder::addFingerprint() {
  if (!reserve(4)) return *this;
  setLength(out_.size() - kHeaderSize + 8);
  return addU32(attr::Fingerprint, fingerprintOf(out_));
}

TransactionId randomTransactionId() {
  TransactionId tid;
  if (RAND_bytes(tid.bytes.data(), static_cast<int>(tid.bytes.size())) != 1) {
    std::fputs("rdv: RAND_bytes failed; no CSPRNG, cannot continue\n", stderr);
    std::abort();
  }
  return tid;
}

}  // namespace rdv::stun
