// The compact wire (subprotocol rdv.cbor.1): the strict CBOR decoder and the CBOR hub frames, as the
// hub and clients receive them. The first byte picks:
//   0: cbor::decode() with the default limits: an accepted item writes back to exactly its input (only
//      deterministic encodings are accepted) and stays within the depth and item limits; a refusal has
//      a description;
//   1: decodeFrameCbor() of one binary frame: an accepted frame re-encodes to exactly its input, decodes
//      to the same frame through its JSON form, and a refusal has an error code.
#include <cstdint>
#include <string>

#include "signalling/cbor/cbor.h"
#include "signalling/hub/frames.h"
#include "signalling/hub/frames_cbor.h"
#include "tests/fuzz/check.h"

using namespace rdv;
using namespace rdv::signalling;

namespace {

size_t depthOf(const cbor::Value& v) {
  size_t deepest = 0;
  for (const auto& item : v.items) deepest = std::max(deepest, depthOf(item) + 1);
  return deepest;
}

size_t itemsOf(const cbor::Value& v) {
  size_t n = 1;
  for (const auto& item : v.items) n += itemsOf(item);
  return n;
}

void value(ByteSpan in) {
  const cbor::Limits limits;
  auto v = cbor::decode(in, limits);
  if (!v) {
    FUZZ_CHECK(cbor::describe(v.error())[0] != '\0');
    return;
  }
  FUZZ_CHECK(cbor::encode(*v) == asString(in));
  FUZZ_CHECK(depthOf(*v) <= limits.maxDepth);
  FUZZ_CHECK(itemsOf(*v) <= limits.maxItems);
}

void frame(std::string_view in) {
  auto f = decodeFrameCbor(in);
  if (!f) {
    FUZZ_CHECK(!frameErrorCode(f.error()).empty());
    return;
  }
  FUZZ_CHECK(encodeFrameCbor(*f) == in);
  if (const auto* e = std::get_if<EnvelopeFrame>(&*f)) FUZZ_CHECK(encodeEnvelopeFrameCbor(e->envelope) == in);
  auto viaJson = decodeFrame(encodeFrame(*f));
  FUZZ_CHECK(viaJson.ok() && *viaJson == *f);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const ByteSpan rest(data + 1, size - 1);
  switch (data[0] % 2) {
    case 0: value(rest); break;
    default: frame(asString(rest)); break;
  }
  return 0;
}
