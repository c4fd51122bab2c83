// The long-term credential mechanism, server side (RFC 8489 §9.2.4), with PASSWORD-ALGORITHM(S)
// negotiation (MD5 or SHA-256 keys), static users, REST secrets and stateless nonces.
#pragma once

#include <cstdint>
#include <string>

#include "relay/config.h"
#include "relay/credentials.h"
#include "relay/nonce.h"
#include "relay/types.h"
#include "stun/message.h"
#include "rendezvous/base/result.h"

namespace rdv::relay {

// What a successfully authenticated request carries; the response is signed with the same key and the
// same MAC type (RFC 8489 §9.2.4: MESSAGE-INTEGRITY-SHA256 answered with MESSAGE-INTEGRITY-SHA256).
struct Credentials {
  std::string username;
  std::string identity;
  Bytes key;
  bool sha256Mac = false;
  bool staticUser = false;  // a configured user (quota: "unlimited" unless listed), not a REST username
  IdentityKind kind = IdentityKind::Rest;  // the quota key space of `identity`
};

enum class AuthError : uint8_t {
  NoIntegrity,     // 401: the challenge every client gets first
  BadRequest,      // 400: integrity without USERNAME/REALM/NONCE, or a PASSWORD-ALGORITHM(S) violation
  UnknownUser,     // 401: unknown username, wrong realm, or expired REST username
  BadIntegrity,    // 401: the MAC does not verify with any candidate password
  StaleNonce,      // 438
};
uint16_t errorCodeOf(AuthError e);

class Authenticator {
 public:
  explicit Authenticator(const Config& config);

  Result<Credentials, AuthError> authenticate(const stun::MessageView& request, const IpAddress& source,
                                              int64_t unixNow) const;
  std::string nonceFor(const IpAddress& source, int64_t unixNow) const { return nonces_.make(source, unixNow); }

 private:
  Result<stun::PasswordAlgorithm, AuthError> negotiateAlgorithm(const stun::MessageView& request) const;

  const Config& config_;
  CredentialStore store_;
  NonceCodec nonces_;
};

}  // namespace rdv::relay
