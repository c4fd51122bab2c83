// coturn's REST credentials (draft-uberti-behave-turn-rest, coturn's use-auth-secret), as an application
// server computes them for its clients: username "EXPIRY:NAME", password base64(HMAC-SHA1(secret,
// username)). Plain OpenSSL, so tests that link no rendezvous library (the interop tests) can use it.
#pragma once

#include <cstdint>
#include <string>

namespace rdv::test {

std::string restUsername(const std::string& name, int64_t validitySeconds = 86400);
std::string restPassword(const std::string& secret, const std::string& username);

}  // namespace rdv::test
