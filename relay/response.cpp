// Building answers: SOFTWARE, MESSAGE-INTEGRITY(-SHA256) and FINGERPRINT in the order RFC 8489 §14 wants,
// and the unauthenticated challenges (401, 438) with REALM, NONCE and PASSWORD-ALGORITHMS.
#include "relay/server.h"

namespace rdv::relay {

// Responses to an authenticated request carry integrity with the request's key and MAC type (RFC 8489
// §9.2.4); FINGERPRINT is added when the request had one (clients that use it expect it back).
Bytes Server::finish(stun::MessageBuilder& b, const stun::MessageView& request, const Credentials* credentials) const {
  if (!config_->software.empty()) b.addString(stun::attr::Software, config_->software);
  if (credentials) {
    if (credentials->sha256Mac) {
      b.addMessageIntegritySha256(credentials->key);
    } else {
      b.addMessageIntegrity(credentials->key);
    }
  }
  if (request.has(stun::attr::Fingerprint)) b.addFingerprint();
  return std::move(b).finish();
}

Bytes Server::errorReply(const Request& r, uint16_t code) {
  stun::MessageBuilder b = answerTo(r.msg, stun::Class::Error);
  b.addErrorCode(code);
  return finish(b, r.msg, &r.credentials);
}

// 401 and 438 (RFC 8489 §9.2.4): REALM, a fresh NONCE, and PASSWORD-ALGORITHMS (our nonces carry the
// "password algorithms" feature bit). 400 answers to unauthenticated requests carry only the code.
Bytes Server::challenge(const stun::MessageView& request, const ClientTuple& tuple, uint16_t code,
                        const Now& now) {
  stun::MessageBuilder b = answerTo(request, stun::Class::Error);
  b.addErrorCode(code);
  if (code != stun::error::BadRequest) {
    b.addString(stun::attr::Realm, config_->realm);
    b.addString(stun::attr::Nonce, auth_->nonceFor(tuple.client.ip(), now.unixSeconds));
    b.addPasswordAlgorithms(config_->passwordAlgorithms);
  }
  return finish(b, request, nullptr);
}

}  // namespace rdv::relay
