#include "rendezvous/identity/secp256k1_context.h"

#include <openssl/rand.h>
#include <secp256k1.h>

#include <array>
#include <cstdio>
#include <cstdlib>

namespace rdv::identity {
namespace {

secp256k1_context* createContext() {
  secp256k1_context* ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
  if (ctx == nullptr) {
    std::fputs("rendezvous: secp256k1_context_create failed\n", stderr);
    std::abort();  // start-up failure: nothing can be signed or verified without it
  }
  // Blinding is an optional hardening step; without entropy the context still works, so a
  // failed RAND_bytes or randomize call leaves it unblinded rather than failing.
  std::array<unsigned char, 32> seed{};
  if (RAND_bytes(seed.data(), static_cast<int>(seed.size())) == 1) {
    if (secp256k1_context_randomize(ctx, seed.data()) != 1) {
      std::fputs("rendezvous: secp256k1_context_randomize failed; continuing unblinded\n", stderr);
    }
  }
  return ctx;
}

}  // namespace

const secp256k1_context_struct* secpContext() {
  static const secp256k1_context* ctx = createContext();
  return ctx;
}

}  // namespace rdv::identity
