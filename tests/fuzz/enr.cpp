// RLP and node records (EIP-778), as POST /v1/registrations and rdv receive them. The first byte picks:
//   0: RLP decoding; a decoded item re-encodes to exactly its input (the decoder is strict: canonical only);
//   1: EnrRecord::decode of the binary form; 2: EnrRecord::fromText of the text form;
//   3: a record built from fuzzed keys and values and signed with a fixed key (the fuzzer cannot forge
//      signatures, so this is how arbitrary contents reach the getters), decoded again;
//   4: base64url (both ways); 5: the "nat" value's text form.
// A record that decodes re-encodes to its bytes, its text form round-trips, and its getters never crash.
#include <cstdint>
#include <string>

#include "rendezvous/enr/base64url.h"
#include "rendezvous/enr/enr_builder.h"
#include "rendezvous/enr/enr_record.h"
#include "rendezvous/enr/rdv_keys.h"
#include "rendezvous/enr/rlp.h"
#include "rendezvous/identity/private_key.h"
#include "tests/fuzz/check.h"
#include "tests/fuzz/fuzz_input.h"

using namespace rdv;
using namespace rdv::enr;

namespace {

// Re-encodes a decoded item from its parts (strings and lists, recursively).
Bytes reencode(const RlpItem& item) {
  Bytes out;
  if (!item.isList) {
    encodeString(out, item.payload);
    return out;
  }
  auto items = decodeListItems(item.payload);
  FUZZ_CHECK(items.ok());
  Bytes payload;
  for (const RlpItem& i : *items) {
    const Bytes one = reencode(i);
    payload.insert(payload.end(), one.begin(), one.end());
  }
  encodeList(out, payload);
  return out;
}

void exerciseRecord(const EnrRecord& r) {
  FUZZ_CHECK(r.encoded().size() <= kMaxRecordSize);
  auto again = EnrRecord::decode(r.encoded());
  FUZZ_CHECK(again.ok() && *again == r);
  const std::string text = r.toText();
  auto fromText = EnrRecord::fromText(text);
  FUZZ_CHECK(fromText.ok() && *fromText == r);
  FUZZ_CHECK(r.nodeId() == r.publicKey().nodeId());
  size_t sink = r.seq() + r.signature().size() + r.content().size();
  for (const auto& e : r.entries()) {
    auto raw = r.rawValue(e.key);
    FUZZ_CHECK(raw.has_value());
    sink += raw->size() + r.bytes(e.key).has_value() + r.text(e.key).has_value() + r.uint(e.key).has_value();
    sink += r.port(e.key).has_value();
  }
  sink += r.id().has_value() + r.ip().has_value() + r.ip6().has_value() + r.tcp().has_value() + r.udp().has_value();
  sink += r.tcp6().has_value() + r.udp6().has_value();
  if (auto nat = r.text(keys::kNat)) sink += parseNatType(*nat).has_value();
  FUZZ_CHECK(sink != SIZE_MAX);
  // Rebuilt from its values under a new seq, it is signed again and decodes.
  static const auto key = identity::PrivateKey::fromHex("b71c71a67e1177ad4e901695e1b4b9ee17ae16c6668d313eac2f96dbcda3f291");
  if (r.seq() < UINT64_MAX) {
    auto rebuilt = EnrBuilder::from(r).setSeq(r.seq() + 1).sign(*key);
    if (rebuilt) FUZZ_CHECK(EnrRecord::decode(rebuilt->encoded()).ok());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const ByteSpan in(data + 1, size - 1);
  const std::string_view text(reinterpret_cast<const char*>(in.data()), in.size());
  switch (data[0] % 6) {
    case 0: {
      if (auto item = decodeItem(in)) {
        FUZZ_CHECK(item->encoded.size() == in.size());
        const Bytes again = reencode(*item);
        FUZZ_CHECK(again.size() == in.size() && std::equal(again.begin(), again.end(), in.begin()));
        if (!item->isList) (void)decodeUint(*item);
      }
      size_t consumed = 0;
      if (auto h = decodeHeader(in, consumed)) FUZZ_CHECK(consumed <= in.size() && consumed == h->encoded.size());
      break;
    }
    case 1:
      if (auto r = EnrRecord::decode(in)) {
        FUZZ_CHECK(r->encoded().size() == in.size() && std::equal(in.begin(), in.end(), r->encoded().begin()));
        exerciseRecord(*r);
      }
      break;
    case 2:
      if (auto r = EnrRecord::fromText(text)) {
        FUZZ_CHECK(r->toText() == text);
        exerciseRecord(*r);
      }
      break;
    case 3: {
      static const auto key = identity::PrivateKey::fromHex("b71c71a67e1177ad4e901695e1b4b9ee17ae16c6668d313eac2f96dbcda3f291");
      fuzz::FuzzInput f(in.data(), in.size());
      EnrBuilder b;
      b.setSeq(f.u8() < 250 ? f.u8() : f.u32());
      for (int i = 0; i < 8 && !f.empty(); ++i) {
        const std::string k = f.text(12);
        switch (f.u8() % 4) {
          case 0: b.setBytes(k, f.bytes(64)); break;
          case 1: b.setUint(k, f.u32()); break;
          case 2: b.setRaw(k, f.bytes(64)); break;
          case 3: b.remove(k); break;
        }
      }
      if (auto r = b.sign(*key)) exerciseRecord(*r);
      break;
    }
    case 4:
      if (auto decoded = base64UrlDecode(text)) FUZZ_CHECK(base64UrlEncode(*decoded) == text);
      FUZZ_CHECK(base64UrlDecode(base64UrlEncode(in)).value() == Bytes(in.begin(), in.end()));
      break;
    case 5:
      if (auto nat = parseNatType(text)) FUZZ_CHECK(formatNatType(*nat) == text);
      break;
  }
  return 0;
}
