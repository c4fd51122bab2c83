// The one constant-time comparison of the project (MACs, nonces, tokens, fingerprints).
#pragma once

#include "rendezvous/base/bytes.h"

namespace rdv {

// True when a and b hold the same bytes; the time taken depends on the lengths only (CRYPTO_memcmp).
// False when the lengths differ: lengths are not secret here (MACs and tokens have public sizes).
bool constantTimeEqual(ByteSpan a, ByteSpan b);

}  // namespace rdv
