// The signed objects of topics and presence (docs/signalling.md, "Topics" and "Presence"). None is
// encrypted: a topic has many readers, so its messages are signed only.
//
//   Publication    one message to a topic, signed by its publisher:
//                  keccak256("rdv-topic-publish-v1" || from (32) || len(topic) (1) || topic || seq (8, BE)
//                            || ts (8, BE) || body)
//   MembersRecord  who may subscribe and publish to a restricted topic, signed by the topic's owner:
//                  keccak256("rdv-topic-members-v1" || len(topic) (1) || topic || owner (32) || seq (8, BE)
//                            || count (4, BE) || member ids (32 each))
//   PresenceEvent  an identity's online/offline event, signed by the node (the hub's key):
//                  keccak256("rdv-presence-v1" || hub id (32) || node (32) || event (1: 1 online, 0 offline)
//                            || last_seen (8, BE, unix ms))
// Signatures are recoverable secp256k1 (65 bytes r || s || v, low-S), checked by recovering the key and
// comparing its node id: the publisher's, the owner's, the hub's. Pure functions, any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rendezvous/base/bytes.h"
#include "rendezvous/base/result.h"
#include "rendezvous/identity/node_id.h"
#include "rendezvous/identity/private_key.h"
#include "rendezvous/identity/public_key.h"

namespace rdv::signalling {

inline constexpr std::string_view kPublishDomain = "rdv-topic-publish-v1";
inline constexpr std::string_view kPublishDomainV2 = "rdv-topic-publish-v2";
inline constexpr std::string_view kMembersDomain = "rdv-topic-members-v1";
inline constexpr std::string_view kPresenceDomain = "rdv-presence-v1";
inline constexpr size_t kMaxTopicSize = 255;        // the registry's namespace rule: 1 to 255 bytes
inline constexpr size_t kMaxTopicBodySize = 65536;  // codec bound; the hub's limit is signal-topic-max-bytes
inline constexpr size_t kMaxTopicMembers = 1024;    // members one record may list

// 1 to 255 bytes, as registry namespaces (no other rule: any bytes a JSON string carries).
bool validTopic(std::string_view topic);
// The owner a topic name binds: "<64 lowercase hex digits of a node id>/<rest>" names a restricted
// topic owned by that id (only its MembersRecord counts); any other name is an open topic.
std::optional<identity::NodeId> topicOwner(std::string_view topic);

struct Publication {
  identity::NodeId from;
  std::string topic;
  uint64_t seq = 0;          // the publisher's counter (as an envelope's seq: increasing)
  uint64_t timestampMs = 0;  // publisher's wall clock, unix ms
  Bytes body;
  identity::RecoverableSignature signature{};
  // 1, or 2: the compact publication (docs/signalling.md "Compact publications"): the publisher is not
  // carried but recovered from the signature (from is zero until completePublicationV2()), there is no
  // timestamp (0), and the signature travels in 64 bytes (recovery id 0 or 1).
  //   v2 digest: keccak256("rdv-topic-publish-v2" || len(topic) (1) || topic || seq (8, BE) || body)
  uint8_t version = 1;
  bool operator==(const Publication&) const = default;
};
identity::Hash256 publicationDigest(const Publication& p);
// Signs `p` as a v2 publication (from set to the key's id, timestampMs 0). Fails in the ~2^-128 case of
// a recovery id above 1.
Result<Publication, identity::IdentityError> signPublicationV2(const identity::PrivateKey& key, Publication p);
// A v2 publication: recovers its publisher and sets `from` (a from already set must be that one);
// false when the signature recovers no key or another one.
bool completePublicationV2(Publication& p);
// Signs `p` (its from is set to the key's node id).
Result<Publication, identity::IdentityError> signPublication(const identity::PrivateKey& key, Publication p);
// Either version: the signature recovers to `from` (for v2, `from` must have been completed).
bool verifyPublication(const Publication& p);

struct MembersRecord {
  std::string topic;
  identity::NodeId owner;
  std::vector<identity::NodeId> members;
  uint64_t seq = 0;  // a newer record for the topic has a higher seq
  identity::RecoverableSignature signature{};
  bool operator==(const MembersRecord&) const = default;
};
identity::Hash256 membersDigest(const MembersRecord& r);
Result<MembersRecord, identity::IdentityError> signMembers(const identity::PrivateKey& owner, MembersRecord r);
// The signature recovers to `owner`, and `owner` is the one the topic's name binds.
bool verifyMembers(const MembersRecord& r);

enum class PresenceState : uint8_t { Offline = 0, Online = 1 };
struct PresenceEvent {
  PresenceState event = PresenceState::Offline;
  identity::NodeId node;
  uint64_t lastSeenMs = 0;  // online: when the event was made; offline: the disconnect (0: never seen)
  identity::RecoverableSignature signature{};
  bool operator==(const PresenceEvent&) const = default;
};
identity::Hash256 presenceDigest(const identity::NodeId& hubId, const PresenceEvent& e);
bool verifyPresence(const identity::NodeId& hubId, const PresenceEvent& e);

}  // namespace rdv::signalling
