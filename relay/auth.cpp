#include "relay/auth.h"

#include <algorithm>

#include "stun/integrity.h"

namespace rdv::relay {

uint16_t errorCodeOf(AuthError e) {
  switch (e) {
    case AuthError::BadRequest: return stun::error::BadRequest;
    case AuthError::StaleNonce: return stun::error::StaleNonce;
    case AuthError::NoIntegrity:
    case AuthError::UnknownUser:
    case AuthError::BadIntegrity: return stun::error::Unauthorized;
  }
  return stun::error::Unauthorized;
}

Authenticator::Authenticator(const Config& config)
    : config_(config), store_(config), nonces_(config.nonceKey, config.nonceLifetime) {}

// RFC 8489 §9.2.4, the checks made when the NONCE starts with the nonce cookie and the "Password
// algorithms" bit (ours always do):
//   - neither PASSWORD-ALGORITHMS nor PASSWORD-ALGORITHM: process as MD5;
//   - otherwise 400 unless both are present, PASSWORD-ALGORITHMS equals what the server sent with this
//     NONCE, and PASSWORD-ALGORITHM is one of them.
Result<stun::PasswordAlgorithm, AuthError> Authenticator::negotiateAlgorithm(const stun::MessageView& m) const {
  const bool hasList = m.has(stun::attr::PasswordAlgorithms);
  const bool hasChoice = m.has(stun::attr::PasswordAlgorithm);
  if (!hasList && !hasChoice) return stun::PasswordAlgorithm::Md5;
  if (!hasList || !hasChoice) return unexpected(AuthError::BadRequest);
  const auto offered = m.passwordAlgorithms();
  const auto chosen = m.passwordAlgorithm();
  if (offered != config_.passwordAlgorithms || !chosen) return unexpected(AuthError::BadRequest);
  if (std::find(offered.begin(), offered.end(), *chosen) == offered.end()) {
    return unexpected(AuthError::BadRequest);
  }
  return *chosen;
}

Result<Credentials, AuthError> Authenticator::authenticate(const stun::MessageView& m, const IpAddress& source,
                                                           int64_t unixNow) const {
  // 1. No MESSAGE-INTEGRITY(-SHA256): 401 with REALM and NONCE (the challenge).
  const bool sha256 = m.has(stun::attr::MessageIntegritySha256);
  if (!sha256 && !m.has(stun::attr::MessageIntegrity)) return unexpected(AuthError::NoIntegrity);
  // 2. Integrity but no USERNAME (USERHASH is not offered: no anonymity bit), REALM or NONCE: 400.
  const auto username = m.string(stun::attr::Username);
  const auto realm = m.string(stun::attr::Realm);
  const auto nonce = m.string(stun::attr::Nonce);
  if (!username || !realm || !nonce) return unexpected(AuthError::BadRequest);
  // 3. PASSWORD-ALGORITHM(S) checks: 400.
  const auto alg = negotiateAlgorithm(m);
  if (!alg) return unexpected(alg.error());
  // 4. NONCE no longer valid: 438 with a fresh NONCE. RFC 8489 §9.2.4 checks the USERNAME first; we
  //    check the nonce first so that a stale nonce gets the same 438 for every username, known or not:
  //    otherwise 438-for-known / 401-for-unknown tells a prober which usernames exist.
  if (nonces_.check(*nonce, source, unixNow) != NonceCheck::Valid) return unexpected(AuthError::StaleNonce);
  // 5. USERNAME not valid (unknown, expired REST username) or another realm: 401, as for a wrong password.
  PasswordLookup found = store_.lookup(*username, unixNow);
  if (found.status != LookupStatus::Found || *realm != config_.realm) return unexpected(AuthError::UnknownUser);
  // 6. The MAC, compared in constant time, with each candidate password (REST secrets in order).
  // A static user given by its MD5 key (coturn's "0x" form): the key is the MAC key, MD5 only.
  if (!found.md5Key.empty() && *alg == stun::PasswordAlgorithm::Md5) {
    const auto check = sha256 ? stun::verifyMessageIntegritySha256(m, found.md5Key)
                              : stun::verifyMessageIntegrity(m, found.md5Key);
    if (check == stun::IntegrityCheck::Ok)
      return Credentials{std::string(*username), std::move(found.identity), found.md5Key, sha256, true,
                         IdentityKind::User};
  }
  for (size_t i = 0; i < found.passwords.size(); ++i) {
    Bytes key = stun::longTermKey(*username, config_.realm, found.passwords[i], *alg);
    const auto check = sha256 ? stun::verifyMessageIntegritySha256(m, key) : stun::verifyMessageIntegrity(m, key);
    if (check == stun::IntegrityCheck::Ok) {
      return Credentials{std::string(*username), std::move(found.identity), std::move(key), sha256, found.staticUser,
                         i < found.kinds.size() ? found.kinds[i] : IdentityKind::Rest};
    }
  }
  return unexpected(AuthError::BadIntegrity);
}

}  // namespace rdv::relay
