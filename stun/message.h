// STUN message codec (RFC 8489): a zero-copy parsed view and a builder. Pure: no I/O, no clock.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "rendezvous/base/address.h"
#include "rendezvous/base/bytes.h"
#include "stun/constants.h"
#include "rendezvous/base/result.h"

namespace rdv::stun {

enum class ParseError : uint8_t {
  TooShort,                   // fewer than 20 bytes, or fewer than the header's length says
  NotStun,                    // the two top bits are not zero
  BadLength,                  // message length not a multiple of 4, or disagrees with the datagram
  AttributeOverrun,           // an attribute's length runs past the end of the message
  TooManyAttributes,          // more than MessageView::kMaxAttributes
  DuplicateFingerprint,       // FINGERPRINT twice
  AttributeAfterFingerprint,  // FINGERPRINT is not last
  AttributeAfterIntegrity,    // something other than MI-SHA256/FINGERPRINT follows MESSAGE-INTEGRITY
  BadFingerprint,             // FINGERPRINT present and wrong
  BadChannelNumber,           // ChannelData with a channel outside 0x4000-0x7FFF
};
std::string_view toString(ParseError e);

struct TransactionId {
  std::array<uint8_t, 12> bytes{};
  bool operator==(const TransactionId&) const = default;
  auto operator<=>(const TransactionId&) const = default;
};

struct Attribute {
  uint16_t type = 0;
  uint32_t offset = 0;  // offset of the attribute's 4-byte header within the message (may exceed 65535)
  ByteSpan value;       // a view into the parsed buffer
};

struct ErrorCodeValue {
  uint16_t code = 0;  // 300-699
  std::string_view reason;
};

struct ChangeRequestValue {
  bool changeIp = false;
  bool changePort = false;
};

// A parsed STUN message. A view: the buffer handed to parse() must outlive it. Parsing allocates nothing.
class MessageView {
 public:
  static constexpr size_t kMaxAttributes = 48;

  // Validates header, lengths, attribute framing, attribute order rules and FINGERPRINT (if present).
  // Attribute values are not interpreted here; the typed getters below do that and return nullopt when a
  // value is malformed.
  static Result<MessageView, ParseError> parse(ByteSpan bytes);

  uint16_t type() const { return type_; }
  uint16_t method() const { return methodOf(type_); }
  Class cls() const { return classOf(type_); }
  bool is(Method m, Class c) const { return type_ == messageType(m, c); }
  // False for RFC 3489 messages (no magic cookie); their transaction id is cookie() + transactionId().
  bool hasMagicCookie() const { return cookie_ == kMagicCookie; }
  uint32_t cookie() const { return cookie_; }
  const TransactionId& transactionId() const { return tid_; }
  ByteSpan raw() const { return raw_; }

  std::span<const Attribute> attributes() const { return {attrs_.data(), count_}; }
  const Attribute* find(uint16_t type) const;  // first occurrence
  bool has(uint16_t type) const { return find(type) != nullptr; }

  // Typed getters: nullopt when absent or malformed.
  // XOR-MAPPED/-PEER/-RELAYED-ADDRESS; nullopt also for RFC 3489 messages (no magic cookie).
  std::optional<Endpoint> xorAddress(uint16_t type) const;
  // Every occurrence (XOR-PEER-ADDRESS repeats); empty when absent or when any occurrence is malformed.
  std::vector<Endpoint> xorAddresses(uint16_t type) const;
  std::optional<Endpoint> address(uint16_t type) const;      // MAPPED-ADDRESS, OTHER-ADDRESS, RESPONSE-ORIGIN...
  std::optional<uint32_t> u32(uint16_t type) const;          // LIFETIME, PRIORITY, ...
  std::optional<uint64_t> u64(uint16_t type) const;          // ICE-CONTROLL(ED|ING), RESERVATION-TOKEN
  // USERNAME, REALM, NONCE, SOFTWARE; nullopt when longer than the RFC 8489 limit (USERNAME < 513 bytes,
  // the others <= 763 bytes).
  std::optional<std::string_view> string(uint16_t type) const;
  std::optional<ErrorCodeValue> errorCode() const;
  std::optional<uint16_t> channelNumber() const;
  std::optional<uint8_t> requestedTransport() const;
  std::optional<Family> requestedAddressFamily() const;
  std::optional<Family> additionalAddressFamily() const;
  std::optional<bool> evenPort() const;  // the R bit
  std::optional<ChangeRequestValue> changeRequest() const;
  std::optional<uint16_t> responsePort() const;
  std::optional<ByteSpan> data() const;
  std::vector<uint16_t> unknownAttributes() const;  // the UNKNOWN-ATTRIBUTES list; empty when malformed
  std::vector<PasswordAlgorithm> passwordAlgorithms() const;  // empty when absent or malformed
  std::optional<PasswordAlgorithm> passwordAlgorithm() const;   // PASSWORD-ALGORITHM (singular)

  // Comprehension-required attribute types present in this message that are not in `known`.
  std::vector<uint16_t> unknownComprehensionRequired(std::span<const uint16_t> known) const;

 private:
  ByteSpan raw_;
  uint16_t type_ = 0;
  uint32_t cookie_ = 0;
  TransactionId tid_;
  std::array<Attribute, kMaxAttributes> attrs_{};
  size_t count_ = 0;
};

// Builds one message. Attributes are appended in call order; integrity and fingerprint are computed over
// what precedes them, so call addMessageIntegrity*/addFingerprint last, in that order.
class MessageBuilder {
 public:
  MessageBuilder(uint16_t type, const TransactionId& tid, uint32_t cookie = kMagicCookie);
  MessageBuilder(uint16_t type, const TransactionId& tid, uint32_t cookie, Bytes buffer);
  MessageBuilder(Method m, Class c, const TransactionId& tid, uint32_t cookie = kMagicCookie)
      : MessageBuilder(messageType(m, c), tid, cookie) {}
  // A response (success or error) to `request`, echoing its transaction id and cookie.
  static MessageBuilder responseTo(const MessageView& request, Class c);
  // The same, built into `buffer` (cleared; its capacity is reused: a server recycles its sent answers).
  static MessageBuilder responseTo(const MessageView& request, Class c, Bytes buffer);

  MessageBuilder& add(uint16_t type, ByteSpan value);
  MessageBuilder& addFlag(uint16_t type) { return add(type, {}); }  // DONT-FRAGMENT, USE-CANDIDATE
  MessageBuilder& addString(uint16_t type, std::string_view s) { return add(type, asBytes(s)); }
  MessageBuilder& addU32(uint16_t type, uint32_t v);
  MessageBuilder& addU64(uint16_t type, uint64_t v);
  MessageBuilder& addXorAddress(uint16_t type, const Endpoint& ep);
  MessageBuilder& addAddress(uint16_t type, const Endpoint& ep);
  MessageBuilder& addErrorCode(uint16_t code, std::string_view reason = {});  // default: reasonPhrase()
  MessageBuilder& addUnknownAttributes(std::span<const uint16_t> types);
  MessageBuilder& addChannelNumber(uint16_t channel);
  MessageBuilder& addRequestedTransport(uint8_t protocol);
  MessageBuilder& addRequestedAddressFamily(Family f);
  MessageBuilder& addAdditionalAddressFamily(Family f);
  MessageBuilder& addEvenPort(bool reserveNext);
  MessageBuilder& addChangeRequest(ChangeRequestValue v);
  MessageBuilder& addResponsePort(uint16_t port);
  MessageBuilder& addPasswordAlgorithms(std::span<const PasswordAlgorithm> algs);
  MessageBuilder& addPasswordAlgorithm(PasswordAlgorithm alg);
  MessageBuilder& addPadding(size_t length);  // PADDING (RFC 5780 §7.6): `length` zero bytes

  MessageBuilder& addMessageIntegrity(ByteSpan key);        // HMAC-SHA1, 20 bytes
  MessageBuilder& addMessageIntegritySha256(ByteSpan key);  // HMAC-SHA256, 32 bytes
  MessageBuilder& addFingerprint();

  // True when an add*() was dropped because the message would exceed 65535 body bytes.
  bool overflowed() const { return overflowed_; }
  const Bytes& bytes() const { return out_; }
  Bytes finish() && { return std::move(out_); }

 private:
  void setLength(size_t bodyLength);
  bool reserve(size_t valueLength);
  void appendIntegrity(uint16_t type, ByteSpan key, bool sha256);
  Bytes out_;
  bool overflowed_ = false;
};

// A random transaction id from OpenSSL's CSPRNG (for clients; servers echo the request's). Aborts if the
// CSPRNG fails: there is no safe way to continue without randomness.
TransactionId randomTransactionId();

}  // namespace rdv::stun
