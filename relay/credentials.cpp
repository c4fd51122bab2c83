#include "relay/credentials.h"

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

PasswordLookup CredentialStore::lookup(std::string_view username, int64_t unixNow) const {
  PasswordLookup out;
  for (const StaticUser& u : config_.users) {
    if (u.name == username) {
      out.status = LookupStatus::Found;
      out.passwords.push_back(u.password);
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
  for (const std::string& secret : config_.authSecrets) out.passwords.push_back(restPassword(secret, username));
  for (const auto& retired : config_.retiredSecrets)
    if (rest->expiry <= retired.retiredAt + config_.retiredSecretGrace.count())
      out.passwords.push_back(restPassword(retired.secret, username));
  if (out.passwords.empty()) out.status = LookupStatus::Unknown;
  return out;
}

}  // namespace rdv::relay
