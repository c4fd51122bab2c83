// Discover cookies: opaque to clients, they carry the position in the registry's change order
// (the last registration counter returned) and a tag of the namespace they were issued for, so a
// cookie from one namespace is refused in another. Text: unpadded URL-safe base64 of
//   version (1 byte, = 1) || counter (8 bytes, big-endian) || keccak256(namespace)[0..8)
// Cookies are not secret or authenticated: a forged counter only moves the caller's own window.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace rdv::registry {

std::string encodeCookie(std::string_view ns, uint64_t counter);
// The counter, or nullopt when malformed or issued for another namespace.
std::optional<uint64_t> decodeCookie(std::string_view ns, std::string_view cookie);

}  // namespace rdv::registry
