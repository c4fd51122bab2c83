// STUN messages (RFC 8489/5780/8656 attributes): every codec entry point on arbitrary bytes, as the STUN
// port and the client side see them (see tests/stun/exercise.h, shared with the mutation test).
#include <cstdint>
#include <cstdlib>

#include "tests/stun/exercise.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (!rdv::stun::test::exerciseOne(rdv::ByteSpan(data, size))) std::abort();
  return 0;
}
