// Why the registry refused a request. The HTTP layer maps each to a status with httpStatus();
// Registry::message() gives the human-readable text, with the configured bounds where relevant.
#pragma once

namespace rdv::registry {

enum class RegistryError {
  InvalidNamespace,     // empty or longer than 255 bytes                      -> 400
  TtlOutOfRange,        // outside [minTtl, maxTtl]                            -> 400
  InvalidLimit,         // discover limit outside 1..maxDiscoverLimit          -> 400
  InvalidCookie,        // not a cookie we issued, or issued for another namespace -> 400
  StaleRecord,          // seq lower than the registered record's              -> 409
  ConflictingRecord,    // same seq as the registered record, different content -> 409
  NotRegistered,        // unregister of an unknown (namespace, node id)       -> 404
  BadSignature,         // unregister signature malformed or by another key    -> 422
  IdentityCapReached,   // this identity holds too many registrations          -> 429
  NamespaceCapReached,  // this namespace holds too many registrations         -> 429
  RegistryFull,         // the registry holds maxRecords registrations         -> 503
};

const char* describe(RegistryError e);
int httpStatus(RegistryError e);

}  // namespace rdv::registry
