#include "stun/constants.h"

namespace rdv::stun {

std::string_view reasonPhrase(uint16_t code) {
  switch (code) {
    case error::TryAlternate: return "Try Alternate";
    case error::BadRequest: return "Bad Request";
    case error::Unauthorized: return "Unauthorized";
    case error::Forbidden: return "Forbidden";
    case error::UnknownAttribute: return "Unknown Attribute";
    case error::AllocationMismatch: return "Allocation Mismatch";
    case error::StaleNonce: return "Stale Nonce";
    case error::AddressFamilyNotSupported: return "Address Family not Supported";
    case error::WrongCredentials: return "Wrong Credentials";
    case error::UnsupportedTransportProtocol: return "Unsupported Transport Protocol";
    case error::PeerAddressFamilyMismatch: return "Peer Address Family Mismatch";
    case error::ConnectionAlreadyExists: return "Connection Already Exists";
    case error::ConnectionTimeoutOrFailure: return "Connection Timeout or Failure";
    case error::AllocationQuotaReached: return "Allocation Quota Reached";
    case error::RoleConflict: return "Role Conflict";
    case error::ServerError: return "Server Error";
    case error::InsufficientCapacity: return "Insufficient Capacity";
    default: return "Error";
  }
}

}  // namespace rdv::stun
