#include "rendezvous/base/address.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <charconv>
#include <cstring>

namespace rdv {

IpAddress IpAddress::v4(uint32_t hostOrder) {
  IpAddress a;
  a.family_ = Family::V4;
  a.bytes_[0] = static_cast<uint8_t>(hostOrder >> 24);
  a.bytes_[1] = static_cast<uint8_t>(hostOrder >> 16);
  a.bytes_[2] = static_cast<uint8_t>(hostOrder >> 8);
  a.bytes_[3] = static_cast<uint8_t>(hostOrder);
  return a;
}

IpAddress IpAddress::v4(const std::array<uint8_t, 4>& b) {
  IpAddress a;
  a.family_ = Family::V4;
  std::memcpy(a.bytes_.data(), b.data(), 4);
  return a;
}

IpAddress IpAddress::v6(const std::array<uint8_t, 16>& b) {
  IpAddress a;
  a.family_ = Family::V6;
  a.bytes_ = b;
  return a;
}

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
  if (text.empty() || text.size() > INET6_ADDRSTRLEN) return std::nullopt;
  char buf[INET6_ADDRSTRLEN + 1];
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  std::array<uint8_t, 4> v4b;
  if (inet_pton(AF_INET, buf, v4b.data()) == 1) return v4(v4b);
  std::array<uint8_t, 16> v6b;
  if (inet_pton(AF_INET6, buf, v6b.data()) == 1) return v6(v6b);
  return std::nullopt;
}

uint32_t IpAddress::v4HostOrder() const {
  return (uint32_t{bytes_[0]} << 24) | (uint32_t{bytes_[1]} << 16) | (uint32_t{bytes_[2]} << 8) | bytes_[3];
}

namespace {

// Dotted decimal by hand: glibc's inet_ntop formats IPv4 with sprintf, and the ledger and log lines
// print an address per allocation.
size_t formatV4(const uint8_t* b, char* out) {
  char* p = out;
  for (int i = 0; i < 4; ++i) {
    const unsigned v = b[i];
    if (v >= 100) *p++ = static_cast<char>('0' + v / 100);
    if (v >= 10) *p++ = static_cast<char>('0' + v / 10 % 10);
    *p++ = static_cast<char>('0' + v % 10);
    if (i < 3) *p++ = '.';
  }
  return static_cast<size_t>(p - out);
}

// "ADDRESS" into `out` (INET6_ADDRSTRLEN bytes); its length, 0 if it cannot be printed.
size_t formatIp(const IpAddress& ip, char* out) {
  if (ip.isV4()) return formatV4(ip.data(), out);
  if (!inet_ntop(AF_INET6, ip.data(), out, INET6_ADDRSTRLEN)) return 0;
  return std::strlen(out);
}

}  // namespace

std::string IpAddress::toString() const {
  char buf[INET6_ADDRSTRLEN];
  const size_t n = formatIp(*this, buf);
  return n ? std::string(buf, n) : std::string("?");
}

std::optional<Endpoint> Endpoint::parse(std::string_view text) {
  std::string_view host;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') return std::nullopt;
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return std::nullopt;
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) return std::nullopt;  // IPv6 needs brackets
  }
  auto ip = IpAddress::parse(host);
  if (!ip) return std::nullopt;
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (ec != std::errc() || end != port.data() + port.size() || port.empty() || value > 65535) return std::nullopt;
  return Endpoint(*ip, static_cast<uint16_t>(value));
}

std::optional<Endpoint> Endpoint::fromSockaddr(const sockaddr* sa) {
  if (sa == nullptr) return std::nullopt;
  if (sa->sa_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(sa);
    std::array<uint8_t, 4> b;
    std::memcpy(b.data(), &in->sin_addr, 4);
    return Endpoint(IpAddress::v4(b), ntohs(in->sin_port));
  }
  if (sa->sa_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(sa);
    std::array<uint8_t, 16> b;
    std::memcpy(b.data(), &in6->sin6_addr, 16);
    return Endpoint(IpAddress::v6(b), ntohs(in6->sin6_port));
  }
  return std::nullopt;
}

unsigned Endpoint::toSockaddr(sockaddr_storage& out) const {
  std::memset(&out, 0, sizeof(out));
  if (ip_.isV4()) {
    auto* in = reinterpret_cast<sockaddr_in*>(&out);
    in->sin_family = AF_INET;
    in->sin_port = htons(port_);
    std::memcpy(&in->sin_addr, ip_.data(), 4);
    return sizeof(sockaddr_in);
  }
  auto* in6 = reinterpret_cast<sockaddr_in6*>(&out);
  in6->sin6_family = AF_INET6;
  in6->sin6_port = htons(port_);
  std::memcpy(&in6->sin6_addr, ip_.data(), 16);
  return sizeof(sockaddr_in6);
}

std::string Endpoint::toString() const {
  char buf[INET6_ADDRSTRLEN + 8];  // "[", address, "]:", five digits
  size_t n = 0;
  if (!ip_.isV4()) buf[n++] = '[';
  const size_t ipSize = formatIp(ip_, buf + n);
  if (ipSize == 0) return ip_.isV4() ? "?:" + std::to_string(port_) : "[?]:" + std::to_string(port_);
  n += ipSize;
  if (!ip_.isV4()) buf[n++] = ']';
  buf[n++] = ':';
  const auto [end, ec] = std::to_chars(buf + n, buf + sizeof(buf), port_);
  return std::string(buf, ec == std::errc() ? static_cast<size_t>(end - buf) : n);
}

size_t hashValue(const IpAddress& ip) {
  // FNV-1a over family and address bytes.
  uint64_t h = 1469598103934665603ull ^ static_cast<uint8_t>(ip.family());
  for (size_t i = 0; i < ip.size(); ++i) h = (h ^ ip.data()[i]) * 1099511628211ull;
  return static_cast<size_t>(h);
}

size_t hashValue(const Endpoint& ep) {
  return hashValue(ep.ip()) * 31 + ep.port();
}

}  // namespace rdv
