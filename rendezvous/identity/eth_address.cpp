#include "rendezvous/identity/eth_address.h"

#include <cstring>

#include "rendezvous/identity/keccak.h"

namespace rdv::identity {

EthAddress EthAddress::ofNodeId(const NodeId& id) {
  EthAddress a;
  std::memcpy(a.bytes.data(), id.bytes.data() + 12, 20);
  return a;
}

std::string EthAddress::lowerHex() const { return "0x" + toHex(bytes); }

// EIP-55: the i-th hex letter is upper case when the i-th nibble of keccak256(the 40 lower-case
// digits as ASCII) is 8 or more.
std::string EthAddress::checksummed() const {
  const std::string digits = toHex(bytes);
  const Hash256 hash = keccak256(asBytes(digits));
  std::string out = "0x";
  for (size_t i = 0; i < digits.size(); ++i) {
    const uint8_t nibble = (i % 2 == 0) ? (hash[i / 2] >> 4) : (hash[i / 2] & 0x0f);
    const char c = digits[i];
    out.push_back(c >= 'a' && c <= 'f' && nibble >= 8 ? static_cast<char>(c - 'a' + 'A') : c);
  }
  return out;
}

bool EthAddress::looksLikeAddress(std::string_view text) {
  return text.size() == 42 && (text.starts_with("0x") || text.starts_with("0X"));
}

std::optional<EthAddress> EthAddress::parse(std::string_view text) {
  if (!text.starts_with("0x") || text.size() != 42) return std::nullopt;
  const std::string_view digits = text.substr(2);
  bool lower = false, upper = false;
  for (char c : digits) {
    if (c >= 'a' && c <= 'f') lower = true;
    else if (c >= 'A' && c <= 'F') upper = true;
    else if (c < '0' || c > '9') return std::nullopt;
  }
  Bytes raw;
  if (!fromHex(digits, raw) || raw.size() != 20) return std::nullopt;
  EthAddress a;
  std::memcpy(a.bytes.data(), raw.data(), 20);
  if (lower && upper && a.checksummed() != text) return std::nullopt;
  return a;
}

}  // namespace rdv::identity
