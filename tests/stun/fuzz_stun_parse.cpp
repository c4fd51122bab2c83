// libFuzzer entry point: every codec entry point on arbitrary bytes (see exercise.h).
#include <cstdint>
#include <cstdlib>

#include "tests/stun/exercise.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (!rdv::stun::test::exerciseOne(rdv::ByteSpan(data, size))) std::abort();
  return 0;
}
