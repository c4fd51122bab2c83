#include "rendezvous/node/coturn_import.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include "relay/peer_policy.h"
#include "rendezvous/base/address.h"

namespace rdv::node {

namespace {

struct Option {
  std::string name;
  std::string value;
  bool hasValue = false;
  int line = 0;
};

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return {};
  return s.substr(b, s.find_last_not_of(" \t\r") - b + 1);
}

// coturn's syntax: `name`, `name=value` or `name value`, `#` comments, optional leading `--`, quotes.
std::vector<Option> parseLines(const std::string& text) {
  std::vector<Option> out;
  std::istringstream in(text);
  int n = 0;
  for (std::string raw; std::getline(in, raw);) {
    ++n;
    const std::string line = trim(raw);
    if (line.empty() || line[0] == '#') continue;
    Option o;
    o.line = n;
    const auto sep = line.find_first_of("= \t");
    o.name = trim(line.substr(0, sep));
    while (o.name.rfind("-", 0) == 0) o.name.erase(0, 1);
    if (sep != std::string::npos) {
      o.value = trim(line.substr(sep + 1));
      if (!o.value.empty() && o.value[0] == '=') o.value = trim(o.value.substr(1));
      if (o.value.size() >= 2 && o.value.front() == '"' && o.value.back() == '"') o.value = o.value.substr(1, o.value.size() - 2);
      o.hasValue = !o.value.empty();
    }
    out.push_back(o);
  }
  return out;
}

std::optional<uint64_t> number(const std::string& s) {
  if (s.empty() || s.size() > 19 || s.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
  return std::stoull(s);
}

std::string hostPort(const IpAddress& ip, uint64_t port) { return Endpoint(ip, static_cast<uint16_t>(port)).toString(); }

// coturn's peer address forms: IP, IP1-IP2 (a range, covered here by the smallest list of CIDRs) or CIDR.
std::optional<std::vector<std::string>> peerCidrs(const std::string& v) {
  if (auto ip = IpAddress::parse(v)) return std::vector<std::string>{ip->toString() + (ip->isV4() ? "/32" : "/128")};
  if (v.find('/') != std::string::npos && relay::parseCidr(v)) return std::vector<std::string>{v};
  const auto dash = v.find('-');
  if (dash == std::string::npos) return std::nullopt;
  auto lo = IpAddress::parse(trim(v.substr(0, dash))), hi = IpAddress::parse(trim(v.substr(dash + 1)));
  if (!lo || !hi || !lo->isV4() || !hi->isV4() || lo->v4HostOrder() > hi->v4HostOrder()) return std::nullopt;
  std::vector<std::string> out;
  uint64_t a = lo->v4HostOrder();
  const uint64_t b = hi->v4HostOrder();
  while (a <= b) {
    int bits = 0;  // the largest aligned block starting at a that ends at or before b
    while (bits < 32 && (a & ((uint64_t{1} << (bits + 1)) - 1)) == 0 && a + (uint64_t{1} << (bits + 1)) - 1 <= b) ++bits;
    const uint32_t x = static_cast<uint32_t>(a);
    out.push_back(std::to_string(x >> 24) + "." + std::to_string((x >> 16) & 255) + "." + std::to_string((x >> 8) & 255) +
                  "." + std::to_string(x & 255) + "/" + std::to_string(32 - bits));
    a += uint64_t{1} << bits;
  }
  return out;
}

// Options that need no rendezvous key: rendezvous always behaves this way.
const std::set<std::string>& implied() {
  static const std::set<std::string> s = {"lt-cred-mech", "fingerprint", "no-stdout-log", "simple-log",
                                          "new-log-timestamp", "no-cli", "no-multicast-peers", "no-loopback-peers"};
  return s;
}

const std::map<std::string, std::string>& knownUnmapped() {
  static const std::map<std::string, std::string> m = {
      {"no-auth", "rendezvous always authenticates TURN requests"},
      {"userdb", "no user database: list users with 'user' or use 'auth-secret'"},
      {"psql-userdb", "no user database"}, {"mysql-userdb", "no user database"}, {"mongo-userdb", "no user database"},
      {"redis-userdb", "no user database"}, {"redis-statsdb", "usage goes to the SQLite ledger (docs/ledger.md)"},
      {"cli-ip", "no telnet CLI: use the admin API ('admin-listen', 'admin-token')"},
      {"cli-port", "no telnet CLI: use the admin API"}, {"cli-password", "no telnet CLI: use the admin API"},
      {"prometheus", "metrics are on the admin listener: set 'admin-listen' and 'admin-token'"},
      {"log-file", "rendezvous logs to stderr (journald under systemd)"}, {"syslog", "rendezvous logs to stderr"},
      {"no-tcp-relay", "TCP relaying (RFC 6062) is not implemented: there is nothing to turn off"},
      {"no-udp", "UDP and TCP share each 'listen' address"}, {"no-tcp", "UDP and TCP share each 'listen' address"},
      {"no-dtls", "DTLS is not offered"}, {"dtls-listening-port", "DTLS is not offered"},
      {"no-rfc5780", "RFC 5780 is opt-in through 'alt-address'"},
  };
  return m;
}

}  // namespace

CoturnImport importCoturnConfig(const std::string& text) {
  CoturnImport out;
  auto& j = out.config;
  auto unmapped = [&](const Option& o, const std::string& why) {
    out.unmapped.push_back(o.name + " (line " + std::to_string(o.line) + "): " + why);
  };
  std::vector<IpAddress> listenIps;
  uint64_t port = 3478, tlsPort = 5349, minPort = 49152, maxPort = 65535;
  bool portsSet = false, useAuthSecret = false, noTls = false;
  std::optional<uint64_t> maxBps;
  std::vector<std::string> secrets, users;
  for (const auto& o : parseLines(text)) {
    const std::string& v = o.value;
    const auto n = number(v);
    if (implied().count(o.name)) continue;
    if (o.name == "listening-ip") {
      if (auto ip = IpAddress::parse(v)) listenIps.push_back(*ip);
      else unmapped(o, "not an IP address");
    } else if (o.name == "listening-port" || o.name == "tls-listening-port") {
      if (!n || *n == 0 || *n > 65535) unmapped(o, "not a port number");
      else (o.name == "listening-port" ? port : tlsPort) = *n;
    } else if (o.name == "relay-ip" || o.name == "external-ip") {
      const std::string key = o.name == "relay-ip" ? "relay-address" : "external-address";
      // external-ip is PUBLIC or PUBLIC/PRIVATE: the public address is the one told to clients.
      const auto ip = IpAddress::parse(v.substr(0, v.find('/')));
      bool taken = false;
      if (ip && j.contains(key))
        for (const auto& e : j[key]) taken = taken || IpAddress::parse(e.get<std::string>())->family() == ip->family();
      if (!ip) unmapped(o, "not an IP address");
      else if (taken) unmapped(o, "rendezvous takes one '" + key + "' per IP family");
      else j[key].push_back(ip->toString());
    } else if (o.name == "min-port" || o.name == "max-port") {
      if (!n || *n == 0 || *n > 65535) unmapped(o, "not a port number");
      else {
        (o.name == "min-port" ? minPort : maxPort) = *n;
        portsSet = true;
      }
    } else if (o.name == "realm") {
      if (j.contains("realm") && j["realm"] != v) unmapped(o, "rendezvous has one realm; the first is kept");
      else if (v.empty() || v.size() > 763) unmapped(o, "a realm is 1-763 bytes");
      else j["realm"] = v;
    } else if (o.name == "user") {
      const auto colon = v.find(':');
      if (colon == std::string::npos || colon == 0 || colon + 1 == v.size()) unmapped(o, "not NAME:PASSWORD");
      else if (v.compare(colon + 1, 2, "0x") == 0) unmapped(o, "a precomputed key (0x...) cannot be turned back into a password");
      else if (std::any_of(users.begin(), users.end(), [&](const std::string& u) { return u.compare(0, colon + 1, v, 0, colon + 1) == 0; }))
        unmapped(o, "user '" + v.substr(0, colon) + "' again: the first is kept");
      else users.push_back(v);
    } else if (o.name == "use-auth-secret") {
      useAuthSecret = true;
    } else if (o.name == "static-auth-secret") {
      if (v.empty()) unmapped(o, "empty secret");
      else secrets.push_back(v);
    } else if (o.name == "allowed-peer-ip" || o.name == "denied-peer-ip") {
      if (auto cidrs = peerCidrs(v))
        for (const auto& c : *cidrs) j[o.name == "allowed-peer-ip" ? "allow-peer" : "deny-peer"].push_back(c);
      else unmapped(o, "not an IP, an IPv4 range IP1-IP2 or a CIDR");
    } else if (o.name == "allow-loopback-peers") {
      j["allow-peer"].push_back("127.0.0.0/8");
      j["allow-peer"].push_back("::1/128");
    } else if (o.name == "cert" || o.name == "pkey") {
      j[o.name == "cert" ? "cert" : "key"] = v;
    } else if (o.name == "no-tls") {
      noTls = true;
    } else if (o.name == "total-quota" || o.name == "user-quota" || o.name == "max-bps" ||
               o.name == "max-allocate-lifetime") {
      if (!n) unmapped(o, "not a whole number");
      else if (o.name == "total-quota") j["max-allocations"] = *n;
      else if (o.name == "user-quota") j["limited-class"]["allocations"] = *n;
      else if (o.name == "max-bps") maxBps = *n ? n : std::nullopt;  // 0: no limit, as rendezvous's default
      else if (*n < 600 || *n > 86400) unmapped(o, "rendezvous's max-lifetime is 600-86400 seconds");
      else j["max-lifetime"] = *n;
    } else if (o.name == "verbose" || o.name == "Verbose") {
      j["log-level"] = "debug";
    } else if (auto it = knownUnmapped().find(o.name); it != knownUnmapped().end()) {
      unmapped(o, it->second);
    } else {
      unmapped(o, "no rendezvous equivalent");
    }
  }
  if (listenIps.empty()) {
    listenIps.push_back(*IpAddress::parse("0.0.0.0"));
    out.notes.push_back("no listening-ip: coturn listens on every address; 'listen' is 0.0.0.0, set the host's addresses");
  }
  for (const auto& ip : listenIps) j["listen"].push_back(hostPort(ip, port));
  if (j.contains("cert") && j.contains("key") && !noTls)
    for (const auto& ip : listenIps) j["tls-listen"].push_back(hostPort(ip, tlsPort));
  if (portsSet) {
    if (minPort > maxPort) out.unmapped.push_back("min-port/max-port: min-port is above max-port; the default range is kept");
    else j["relay-ports"] = std::to_string(minPort) + "-" + std::to_string(maxPort);
  }
  if (!users.empty()) j["user"] = users;
  if (useAuthSecret && !secrets.empty()) j["auth-secret"] = secrets;
  else if (useAuthSecret) out.unmapped.push_back("use-auth-secret: the secrets live in coturn's database; set 'auth-secret'");
  else if (!secrets.empty()) out.unmapped.push_back("static-auth-secret: ignored by coturn without use-auth-secret");
  // coturn puts no per-identity limits on REST users; rendezvous's "limited" class does unless lifted here.
  auto& limited = j["limited-class"];
  limited["max-lifetime"] = j.value("max-lifetime", 3600);
  limited["bytes-per-allocation"] = 0;
  if (!limited.contains("allocations")) limited["allocations"] = 0;
  out.notes.push_back("limited-class is lifted to coturn's behaviour (no per-allocation byte cap); see 'Relay quotas'");
  if (maxBps) {
    limited["bytes-per-second"] = *maxBps;
    j["quota-classes"]["coturn-users"] = {{"bytes-per-second", *maxBps}};
    for (const auto& u : users) j["quota-members"][u.substr(0, u.find(':'))] = "coturn-users";
    out.notes.push_back("max-bps is per session in coturn and per identity (all its allocations) in rendezvous");
  }
  return out;
}

std::string renderCoturnImport(const CoturnImport& imported, const std::string& origin) {
  std::string s = "// rendezvous configuration converted from coturn's '" + origin + "' (rendezvousd --import-coturn-config).\n"
                  "// Review it, then: rendezvousd --config FILE --check-config\n";
  for (const auto& n : imported.notes) s += "// note: " + n + "\n";
  for (const auto& u : imported.unmapped) s += "// not mapped: " + u + "\n";
  return s + imported.config.dump(2) + "\n";
}

}  // namespace rdv::node
