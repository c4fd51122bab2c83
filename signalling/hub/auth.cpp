#include "signalling/hub/auth.h"

namespace rdv::signalling {

identity::Hash256 authDigest(const identity::NodeId& hubId, const ChallengeNonce& nonce,
                             const identity::NodeId& clientId) {
  identity::Keccak256 k;
  k.update(asBytes(kAuthDomain));
  k.update(hubId.bytes);
  k.update(nonce);
  k.update(clientId.bytes);
  return k.finish();
}

Result<identity::RecoverableSignature, identity::IdentityError> signChallenge(const identity::PrivateKey& client,
                                                                              const identity::NodeId& hubId,
                                                                              const ChallengeNonce& nonce) {
  return client.signRecoverable(authDigest(hubId, nonce, client.nodeId()));
}

bool checkChallengeResponse(const identity::NodeId& hubId, const ChallengeNonce& nonce,
                            const identity::NodeId& clientId, const identity::RecoverableSignature& signature) {
  auto key = identity::PublicKey::recover(authDigest(hubId, nonce, clientId), signature);
  return key.ok() && key->nodeId() == clientId;
}

}  // namespace rdv::signalling
