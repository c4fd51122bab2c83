#include "signalling/hub/publication.h"

#include <cstring>

#include "rendezvous/identity/keccak.h"

namespace rdv::signalling {

namespace {

void updateU64(identity::Keccak256& k, uint64_t v) {
  std::array<uint8_t, 8> b{};
  for (int i = 7; i >= 0; --i, v >>= 8) b[static_cast<size_t>(i)] = static_cast<uint8_t>(v);
  k.update(b);
}

void updateTopic(identity::Keccak256& k, std::string_view topic) {
  const std::array<uint8_t, 1> len{static_cast<uint8_t>(topic.size())};
  k.update(len);
  k.update(asBytes(topic));
}

bool recoversTo(const identity::Hash256& digest, const identity::RecoverableSignature& sig, const identity::NodeId& id) {
  auto key = identity::PublicKey::recover(digest, sig);
  return key.ok() && key->nodeId() == id;
}

}  // namespace

bool validTopic(std::string_view topic) { return !topic.empty() && topic.size() <= kMaxTopicSize; }

std::optional<identity::NodeId> topicOwner(std::string_view topic) {
  if (topic.size() < 65 || topic[64] != '/') return std::nullopt;
  for (char c : topic.substr(0, 64))
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return std::nullopt;
  Bytes raw;
  if (!fromHex(topic.substr(0, 64), raw) || raw.size() != 32) return std::nullopt;
  identity::NodeId id;
  std::memcpy(id.bytes.data(), raw.data(), 32);
  return id;
}

identity::Hash256 publicationDigest(const Publication& p) {
  identity::Keccak256 k;
  if (p.version != 1) {
    k.update(asBytes(kPublishDomainV2));
    updateTopic(k, p.topic);
    updateU64(k, p.seq);
    k.update(p.body);
    return k.finish();
  }
  k.update(asBytes(kPublishDomain));
  k.update(p.from.bytes);
  updateTopic(k, p.topic);
  updateU64(k, p.seq);
  updateU64(k, p.timestampMs);
  k.update(p.body);
  return k.finish();
}

Result<Publication, identity::IdentityError> signPublication(const identity::PrivateKey& key, Publication p) {
  p.from = key.nodeId();
  auto sig = key.signRecoverable(publicationDigest(p));
  if (!sig) return unexpected(sig.error());
  p.signature = *sig;
  return p;
}

Result<Publication, identity::IdentityError> signPublicationV2(const identity::PrivateKey& key, Publication p) {
  p.version = 2;
  p.from = key.nodeId();
  p.timestampMs = 0;
  auto sig = key.signRecoverable(publicationDigest(p));
  if (!sig) return unexpected(sig.error());
  if ((*sig)[64] > 1) return unexpected(identity::IdentityError::InvalidSignature);
  p.signature = *sig;
  return p;
}

bool completePublicationV2(Publication& p) {
  if (p.version != 2 || p.signature[64] > 1 || !validTopic(p.topic) || p.body.size() > kMaxTopicBodySize) return false;
  auto key = identity::PublicKey::recover(publicationDigest(p), p.signature);
  if (!key) return false;
  const identity::NodeId id = key->nodeId();
  if (p.from != identity::NodeId{} && p.from != id) return false;
  p.from = id;
  return true;
}

bool verifyPublication(const Publication& p) {
  return validTopic(p.topic) && p.body.size() <= kMaxTopicBodySize &&
         recoversTo(publicationDigest(p), p.signature, p.from);
}

identity::Hash256 membersDigest(const MembersRecord& r) {
  identity::Keccak256 k;
  k.update(asBytes(kMembersDomain));
  updateTopic(k, r.topic);
  k.update(r.owner.bytes);
  updateU64(k, r.seq);
  const auto n = static_cast<uint32_t>(r.members.size());
  const std::array<uint8_t, 4> count{static_cast<uint8_t>(n >> 24), static_cast<uint8_t>(n >> 16),
                                     static_cast<uint8_t>(n >> 8), static_cast<uint8_t>(n)};
  k.update(count);
  for (const auto& m : r.members) k.update(m.bytes);
  return k.finish();
}

Result<MembersRecord, identity::IdentityError> signMembers(const identity::PrivateKey& owner, MembersRecord r) {
  r.owner = owner.nodeId();
  auto sig = owner.signRecoverable(membersDigest(r));
  if (!sig) return unexpected(sig.error());
  r.signature = *sig;
  return r;
}

bool verifyMembers(const MembersRecord& r) {
  auto owner = topicOwner(r.topic);
  return validTopic(r.topic) && owner && *owner == r.owner && r.members.size() <= kMaxTopicMembers &&
         recoversTo(membersDigest(r), r.signature, r.owner);
}

identity::Hash256 presenceDigest(const identity::NodeId& hubId, const PresenceEvent& e) {
  identity::Keccak256 k;
  k.update(asBytes(kPresenceDomain));
  k.update(hubId.bytes);
  k.update(e.node.bytes);
  const std::array<uint8_t, 1> ev{static_cast<uint8_t>(e.event)};
  k.update(ev);
  updateU64(k, e.lastSeenMs);
  return k.finish();
}

bool verifyPresence(const identity::NodeId& hubId, const PresenceEvent& e) {
  return recoversTo(presenceDigest(hubId, e), e.signature, hubId);
}

}  // namespace rdv::signalling
