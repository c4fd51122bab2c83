#include "relay/credentials.h"

#include <array>
#include <openssl/evp.h>

#include <charconv>

#include "stun/integrity.h"

namespace rdv::relay {

std::optional<RestUsername> parseRestUsername(std::string_view username) {
  const auto colon = username.find(':');
  const std::string_view digits = username.substr(0, colon);
  if (digits.empty() || digits.size() > 18) return std::nullopt;
  int64_t expiry = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), expiry);
  if (ec != std::errc() || end != digits.data() + digits.size() || expiry < 0) return std::nullopt;
  RestUsername r{expiry, {}};
  if (colon != std::string_view::npos) r.id = username.substr(colon + 1);
  return r;
}

std::string identityOf(std::string_view username, bool rest) {
  if (rest) {
    if (const auto r = parseRestUsername(username); r && !r->id.empty()) return std::string(r->id);
  }
  return std::string(username);
}

std::string base64Encode(ByteSpan data) {
  std::string out(4 * ((data.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data.data(),
                                static_cast<int>(data.size()));
  out.resize(n > 0 ? static_cast<size_t>(n) : 0);
  return out;
}

std::string restPassword(std::string_view secret, std::string_view username) {
  return base64Encode(stun::hmacSha1(asBytes(secret), asBytes(username)));
}

std::string_view toString(IdentityKind k) {
  switch (k) {
    case IdentityKind::User: return "user";
    case IdentityKind::Rest: return "rest";
    case IdentityKind::Node: return "node";
  }
  return "?";
}

std::string nodeCredentialSecret(std::string_view secret) {
  static constexpr std::string_view kLabel = "rendezvous node-bound TURN credentials v1";
  return toHex(stun::hmacSha256(asBytes(secret), asBytes(kLabel)));
}

bool looksLikeNodeId(std::string_view id) {
  if (id.size() != 64) return false;
  for (const char ch : id)
    if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F'))) return false;
  return true;
}

PasswordLookup CredentialStore::lookup(std::string_view username, int64_t unixNow) const {
  PasswordLookup out;
  for (const StaticUser& u : config_.users) {
    if (u.name == username) {
      out.status = LookupStatus::Found;
      if (u.md5Key.empty()) {
        out.passwords.push_back(u.password);
        out.kinds.push_back(IdentityKind::User);
      }
      out.md5Key = u.md5Key;
      out.identity = identityOf(username, false);
      out.staticUser = true;
      return out;
    }
  }
  const auto rest = parseRestUsername(username);
  if (!rest || (config_.authSecrets.empty() && config_.retiredSecrets.empty())) return out;
  if (rest->expiry < unixNow) {
    out.status = LookupStatus::Expired;
    return out;
  }
  out.status = LookupStatus::Found;
  out.identity = identityOf(username, true);
  for (const std::string& secret : config_.authSecrets) {
    out.passwords.push_back(restPassword(secret, username));
    out.kinds.push_back(IdentityKind::Rest);
  }
  // Secrets a reload retired stay valid for credentials that expire within the grace after it.
  std::vector<std::string> retired;
  for (const auto& r : config_.retiredSecrets)
    if (rest->expiry <= r.retiredAt + config_.retiredSecretGrace.count()) retired.push_back(r.secret);
  for (const std::string& secret : retired) {
    out.passwords.push_back(restPassword(secret, username));
    out.kinds.push_back(IdentityKind::Rest);
  }
  // Node-bound credentials (/v1/ice-servers for a signed request) use the derived secrets; tried after
  // the plain ones, only for ids shaped like a node id.
  if (looksLikeNodeId(rest->id)) {
    const std::array<const std::vector<std::string>*, 2> lists{&config_.authSecrets, &retired};
    for (const std::vector<std::string>* list : lists) {
      for (const std::string& secret : *list) {
        out.passwords.push_back(restPassword(nodeCredentialSecret(secret), username));
        out.kinds.push_back(IdentityKind::Node);
      }
    }
  }
  if (out.passwords.empty()) out.status = LookupStatus::Unknown;
  return out;
}

}  // namespace rdv::relay
