#include "rendezvous/base/constant_time.h"

#include <openssl/crypto.h>

namespace rdv {

bool constantTimeEqual(ByteSpan a, ByteSpan b) {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace rdv
