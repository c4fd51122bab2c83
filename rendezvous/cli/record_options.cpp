#include "rendezvous/cli/record_options.h"

#include <CLI/CLI.hpp>
#include <arpa/inet.h>

#include "rendezvous/enr/enr_builder.h"

namespace rdv::cli {

namespace {

// "KEY=VALUE": VALUE is text, or bytes when written "0x" + hex.
std::optional<std::string> applySet(enr::EnrBuilder& b, const std::string& kv) {
  const auto eq = kv.find('=');
  if (eq == std::string::npos || eq == 0) return "--set expects KEY=VALUE, got \"" + kv + "\"";
  const std::string key = kv.substr(0, eq);
  const std::string value = kv.substr(eq + 1);
  if (key == "id" || key == "secp256k1") return "\"" + key + "\" is written from the signing key";
  if (value.starts_with("0x")) {
    Bytes raw;
    if (!fromHex(std::string_view(value).substr(2), raw)) return "bad hex in --set " + key;
    b.setBytes(key, raw);
  } else {
    b.setText(key, value);
  }
  return std::nullopt;
}

}  // namespace

void addRecordOptions(CLI::App& cmd, RecordOptions& o) {
  cmd.add_option("--seq", o.seq, "sequence number")->capture_default_str();
  cmd.add_option("--ip", o.ip, "IPv4 address");
  cmd.add_option("--ip6", o.ip6, "IPv6 address");
  cmd.add_option("--udp", o.udp, "UDP port");
  cmd.add_option("--tcp", o.tcp, "TCP port");
  cmd.add_option("--udp6", o.udp6, "IPv6 UDP port");
  cmd.add_option("--tcp6", o.tcp6, "IPv6 TCP port");
  cmd.add_option("--set", o.sets, "KEY=VALUE (text, or 0x-prefixed hex bytes); repeatable");
}

Result<enr::EnrRecord, std::string> buildRecord(const RecordOptions& o, const identity::PrivateKey& key) {
  enr::EnrBuilder b;
  b.setSeq(o.seq);
  if (!o.ip.empty()) {
    std::array<uint8_t, 4> ip{};
    if (inet_pton(AF_INET, o.ip.c_str(), ip.data()) != 1) return unexpected("bad IPv4 address " + o.ip);
    b.setIp(ip);
  }
  if (!o.ip6.empty()) {
    std::array<uint8_t, 16> ip6{};
    if (inet_pton(AF_INET6, o.ip6.c_str(), ip6.data()) != 1) return unexpected("bad IPv6 address " + o.ip6);
    b.setIp6(ip6);
  }
  if (o.udp) b.setUdp(*o.udp);
  if (o.tcp) b.setTcp(*o.tcp);
  if (o.udp6) b.setUdp6(*o.udp6);
  if (o.tcp6) b.setTcp6(*o.tcp6);
  for (const auto& kv : o.sets)
    if (auto error = applySet(b, kv)) return unexpected(*error);
  auto record = b.sign(key);
  if (!record) return unexpected(std::string(enr::describe(record.error())));
  return std::move(*record);
}

}  // namespace rdv::cli
