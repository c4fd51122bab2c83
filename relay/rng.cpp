// CryptoRng: OpenSSL's CSPRNG for production port picks and reservation tokens.
#include <openssl/rand.h>

#include <cstdio>
#include <cstdlib>

#include "relay/types.h"

namespace rdv::relay {

uint64_t CryptoRng::next() {
  uint8_t b[8];
  if (RAND_bytes(b, sizeof(b)) != 1) {
    std::fputs("rendezvous: RAND_bytes failed; cannot continue without randomness\n", stderr);
    std::abort();
  }
  uint64_t v = 0;
  for (uint8_t x : b) v = (v << 8) | x;
  return v;
}

}  // namespace rdv::relay
