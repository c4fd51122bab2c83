// STUN/TURN/ICE protocol numbers: methods, classes, attribute types, error codes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace rdv::stun {

constexpr uint32_t kMagicCookie = 0x2112A442;
constexpr size_t kHeaderSize = 20;
constexpr uint32_t kFingerprintXor = 0x5354554E;

enum class Method : uint16_t {
  Binding = 0x001,
  Allocate = 0x003,
  Refresh = 0x004,
  Send = 0x006,
  Data = 0x007,
  CreatePermission = 0x008,
  ChannelBind = 0x009,
  Connect = 0x00A,            // RFC 6062
  ConnectionBind = 0x00B,     // RFC 6062
  ConnectionAttempt = 0x00C,  // RFC 6062
};

enum class Class : uint8_t { Request = 0, Indication = 1, Success = 2, Error = 3 };

// The 14-bit message type field from method and class (RFC 8489 §5, figure 3).
constexpr uint16_t messageType(uint16_t method, Class cls) {
  const uint16_t c = static_cast<uint16_t>(cls);
  return static_cast<uint16_t>((method & 0x000F) | ((method & 0x0070) << 1) | ((method & 0x0F80) << 2) |
                               ((c & 0x1) << 4) | ((c & 0x2) << 7));
}
constexpr uint16_t messageType(Method m, Class cls) { return messageType(static_cast<uint16_t>(m), cls); }
constexpr uint16_t methodOf(uint16_t type) {
  return static_cast<uint16_t>((type & 0x000F) | ((type & 0x00E0) >> 1) | ((type & 0x3E00) >> 2));
}
constexpr Class classOf(uint16_t type) {
  return static_cast<Class>(((type >> 4) & 0x1) | ((type >> 7) & 0x2));
}

namespace attr {
enum : uint16_t {
  // comprehension-required (0x0000-0x7FFF)
  MappedAddress = 0x0001,
  ChangeRequest = 0x0003,  // RFC 5780
  SourceAddress = 0x0004,  // RFC 3489 (legacy responses only)
  ChangedAddress = 0x0005, // RFC 3489 (legacy responses only)
  Username = 0x0006,
  MessageIntegrity = 0x0008,
  ErrorCode = 0x0009,
  UnknownAttributes = 0x000A,
  ChannelNumber = 0x000C,  // RFC 8656
  Lifetime = 0x000D,
  XorPeerAddress = 0x0012,
  Data = 0x0013,
  Realm = 0x0014,
  Nonce = 0x0015,
  XorRelayedAddress = 0x0016,
  RequestedAddressFamily = 0x0017,
  EvenPort = 0x0018,
  RequestedTransport = 0x0019,
  DontFragment = 0x001A,
  AccessToken = 0x001B,  // RFC 7635
  MessageIntegritySha256 = 0x001C,
  PasswordAlgorithm = 0x001D,
  Userhash = 0x001E,
  XorMappedAddress = 0x0020,
  ReservationToken = 0x0022,
  Priority = 0x0024,      // RFC 8445
  UseCandidate = 0x0025,  // RFC 8445
  Padding = 0x0026,       // RFC 5780
  ResponsePort = 0x0027,  // RFC 5780
  ConnectionId = 0x002A,  // RFC 6062
  // comprehension-optional (0x8000-0xFFFF)
  AdditionalAddressFamily = 0x8000,
  AddressErrorCode = 0x8001,
  PasswordAlgorithms = 0x8002,
  AlternateDomain = 0x8003,
  Icmp = 0x8004,
  Software = 0x8022,
  AlternateServer = 0x8023,
  TransactionTransmitCounter = 0x8025,
  CacheTimeout = 0x8027,
  Fingerprint = 0x8028,
  IceControlled = 0x8029,
  IceControlling = 0x802A,
  ResponseOrigin = 0x802B,  // RFC 5780
  OtherAddress = 0x802C,    // RFC 5780
  ThirdPartyAuthorization = 0x802E,  // RFC 7635
};
}  // namespace attr

constexpr bool isComprehensionRequired(uint16_t type) { return type < 0x8000; }

namespace error {
enum : uint16_t {
  TryAlternate = 300,
  BadRequest = 400,
  Unauthorized = 401,
  Forbidden = 403,
  UnknownAttribute = 420,
  AllocationMismatch = 437,
  StaleNonce = 438,
  AddressFamilyNotSupported = 440,
  WrongCredentials = 441,
  UnsupportedTransportProtocol = 442,
  PeerAddressFamilyMismatch = 443,
  ConnectionAlreadyExists = 446,
  ConnectionTimeoutOrFailure = 447,
  AllocationQuotaReached = 486,
  RoleConflict = 487,
  ServerError = 500,
  InsufficientCapacity = 508,
};
}  // namespace error

// The RFC's reason phrase for an error code ("Unauthorized", ...); "Error" for unknown codes.
std::string_view reasonPhrase(uint16_t code);

// PASSWORD-ALGORITHM values (RFC 8489 §18.5).
enum class PasswordAlgorithm : uint16_t { Md5 = 0x0001, Sha256 = 0x0002 };

// REQUESTED-TRANSPORT protocol numbers.
constexpr uint8_t kTransportUdp = 17;
constexpr uint8_t kTransportTcp = 6;

}  // namespace rdv::stun
