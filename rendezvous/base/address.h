// Transport addresses as plain values: an IP (v4 or v6) and a port. No sockets here.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

struct sockaddr;
struct sockaddr_storage;

namespace rdv {

enum class Family : uint8_t { V4 = 1, V6 = 2 };  // values are STUN's address family codes

class IpAddress {
 public:
  IpAddress() = default;
  static IpAddress v4(uint32_t hostOrder);
  static IpAddress v4(const std::array<uint8_t, 4>& b);
  static IpAddress v6(const std::array<uint8_t, 16>& b);
  // "1.2.3.4" or "::1" (no brackets, no port).
  static std::optional<IpAddress> parse(std::string_view text);

  Family family() const { return family_; }
  bool isV4() const { return family_ == Family::V4; }
  // 4 bytes for IPv4, 16 for IPv6.
  const uint8_t* data() const { return bytes_.data(); }
  size_t size() const { return isV4() ? 4 : 16; }
  uint32_t v4HostOrder() const;
  std::string toString() const;

  bool operator==(const IpAddress&) const = default;
  auto operator<=>(const IpAddress&) const = default;

 private:
  Family family_ = Family::V4;
  std::array<uint8_t, 16> bytes_{};  // IPv4 uses the first 4 bytes; the rest stay zero
};

class Endpoint {
 public:
  Endpoint() = default;
  Endpoint(IpAddress ip, uint16_t port) : ip_(ip), port_(port) {}
  // "1.2.3.4:3478", "[::1]:3478".
  static std::optional<Endpoint> parse(std::string_view text);
  static std::optional<Endpoint> fromSockaddr(const sockaddr* sa);
  // Returns the length written into `out`.
  unsigned toSockaddr(sockaddr_storage& out) const;

  const IpAddress& ip() const { return ip_; }
  uint16_t port() const { return port_; }
  Family family() const { return ip_.family(); }
  void setPort(uint16_t p) { port_ = p; }
  std::string toString() const;

  bool operator==(const Endpoint&) const = default;
  auto operator<=>(const Endpoint&) const = default;

 private:
  IpAddress ip_;
  uint16_t port_ = 0;
};

size_t hashValue(const IpAddress& ip);
size_t hashValue(const Endpoint& ep);

}  // namespace rdv

template <>
struct std::hash<rdv::IpAddress> {
  size_t operator()(const rdv::IpAddress& a) const { return rdv::hashValue(a); }
};
template <>
struct std::hash<rdv::Endpoint> {
  size_t operator()(const rdv::Endpoint& e) const { return rdv::hashValue(e); }
};
