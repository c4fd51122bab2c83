// Long-term credential lookup (RFC 8489 §9.2): static users and coturn-compatible REST usernames
// (draft-uberti-behave-turn-rest as coturn's use-auth-secret implements it):
//   username = "EXPIRY[:ID]"  (EXPIRY in unix seconds)
//   password = base64(HMAC-SHA1(secret, username))
// Secrets are a list, tried in order, so an operator can rotate: add the new one first, drop the old one
// once every issued credential has expired.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "relay/config.h"
#include "rendezvous/base/bytes.h"

namespace rdv::relay {

struct RestUsername {
  int64_t expiry = 0;
  std::string_view id;  // empty when the username is only "EXPIRY"
};
// "1700000000" or "1700000000:alice"; nullopt when the part before the first ':' is not all digits.
std::optional<RestUsername> parseRestUsername(std::string_view username);

// The identity metering attributes an allocation to: ID for a REST "EXPIRY:ID" username, else the
// username itself.
std::string identityOf(std::string_view username, bool rest);

std::string base64Encode(ByteSpan data);
// base64(HMAC-SHA1(secret, username)), the REST password.
std::string restPassword(std::string_view secret, std::string_view username);

// IdentityKind (the quota key space of an identity) is in types.h.

// The secret /v1/ice-servers makes node-bound credentials with (the RDV-Sig path): derived from an auth
// secret (hex of HMAC-SHA256(secret, "rendezvous node-bound TURN credentials v1")), so holding the shared
// secret, or knowing a node id, is not enough to mint credentials that count as that node's.
std::string nodeCredentialSecret(std::string_view secret);
// 64 hex digits: the shape of an ENR node id.
bool looksLikeNodeId(std::string_view id);

enum class LookupStatus : uint8_t { Found, Unknown, Expired };

struct PasswordLookup {
  LookupStatus status = LookupStatus::Unknown;
  std::vector<std::string> passwords;  // candidates in the order to try
  std::vector<IdentityKind> kinds;     // what a match of passwords[i] makes the identity
  std::string identity;
  bool staticUser = false;  // a configured user (--user), not a REST username
  Bytes md5Key;             // a static user given by its MD5 key (StaticUser::md5Key): no password to try
};

class CredentialStore {
 public:
  explicit CredentialStore(const Config& config) : config_(config) {}
  // Static users first (an exact name match), then REST secrets when the username has the REST form.
  PasswordLookup lookup(std::string_view username, int64_t unixNow) const;

 private:
  const Config& config_;
};

}  // namespace rdv::relay
