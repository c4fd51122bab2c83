// Writes the seed corpora of tests/fuzz/corpus/<target>/ from published vectors (RFC 5769, EIP-778, the
// RLP examples) and from what the project's own builders make (TURN requests, ChannelData, sealed
// envelopes, hub frames, API requests, the sample config), in each target's input format (see the
// target's header comment: most start with a byte choosing the mode). Run by hand after a format change:
//   build/tests/fuzz_seed_corpus tests/fuzz/corpus
// File names are stable (<kind>-<n>), so re-running rewrites the same files.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "relay/credentials.h"
#include "rendezvous/enr/enr_builder.h"
#include "rendezvous/enr/enr_record.h"
#include "rendezvous/identity/api_signature.h"
#include "rendezvous/identity/private_key.h"
#include "rendezvous/registry/unregister_message.h"
#include "signalling/envelope/envelope_codec.h"
#include "signalling/hub/frames_cbor.h"
#include "signalling/hub/frames.h"
#include "stun/channel_data.h"
#include "stun/integrity.h"
#include "stun/message.h"

using namespace rdv;
namespace fs = std::filesystem;

namespace {

fs::path g_root;

void write(const std::string& target, const std::string& name, const Bytes& bytes) {
  const fs::path dir = g_root / target;
  fs::create_directories(dir);
  std::ofstream out(dir / name, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}
void write(const std::string& target, const std::string& name, std::string_view text) {
  write(target, name, Bytes(text.begin(), text.end()));
}
Bytes hex(std::string_view h) {
  Bytes out;
  if (!fromHex(h, out)) std::abort();
  return out;
}
Bytes cat(uint8_t mode, const Bytes& rest) {
  Bytes out{mode};
  out.insert(out.end(), rest.begin(), rest.end());
  return out;
}
Bytes cat(uint8_t mode, std::string_view rest) { return cat(mode, Bytes(rest.begin(), rest.end())); }

const char* kRfc5769[] = {
    // §2.1 Sample Request
    "000100582112a442b7e7a701bc34d686fa87dfae802200105354554e207465737420636c69656e74002400046e0001ff"
    "80290008932ff9b151263b36000600096576746a3a68367659202020000800149aeaa70cbfd8cb56781ef2b5b2d3f249c1b5"
    "71a280280004e57a3bcf",
    // §2.2 Sample IPv4 Response
    "0101003c2112a442b7e7a701bc34d686fa87dfae8022000b7465737420766563746f7220002000080001a147e112a643"
    "000800142b91f599fd9e90c38c7489f92af9ba53f06be7d780280004c07d4c96",
    // §2.3 Sample IPv6 Response
    "010100482112a442b7e7a701bc34d686fa87dfae8022000b7465737420766563746f7220002000140002a1470113a9fa"
    "a5d3f179bc25f4b5bed2b9d900080014a382954e4be67bf11784c97c8292c275bfe3ed4180280004c8fb0b4c",
    // §2.4 Sample Request with Long-Term Authentication
    "000100602112a44278ad3433c6ad72c029da412e00060012e3839ee38388e383aae38383e382afe382b900000015001c"
    "662f2f3439396b39353464364f4c33346f4c3946535476793634734100" "14000b6578616d706c652e6f726700"
    "00080014f67024656dd64a3e02b8e0712e85c9a28ca89666",
};

constexpr std::string_view kEipRecord =
    "enr:-IS4QHCYrYZbAKWCBRlAy5zzaDZXJBGkcnh4MHcBFZntXNFrdvJjX04jRzjzCBOonrkTfj499SZuOh8R33Ls8RRcy5wBgmlkgnY0gmlw"
    "hH8AAAGJc2VjcDI1NmsxoQPKY0yuDUmstAHYpMa2_oxVtw0RW_QAdpzBQA8yWM0xOIN1ZHCCdl8";
constexpr std::string_view kEipKey = "b71c71a67e1177ad4e901695e1b4b9ee17ae16c6668d313eac2f96dbcda3f291";
constexpr std::string_view kSenderKey = "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318";

stun::TransactionId tid(uint8_t n) {
  stun::TransactionId t;
  for (size_t i = 0; i < t.bytes.size(); ++i) t.bytes[i] = static_cast<uint8_t>(n + i);
  return t;
}

void stunSeeds() {
  int n = 0;
  for (const char* v : kRfc5769) {
    write("stun_message", "rfc5769-" + std::to_string(n), hex(v));
    write("channel_data", "rfc5769-" + std::to_string(n++), hex(v));
  }
  const Endpoint peer = *Endpoint::parse("192.0.2.15:5000");
  const Endpoint peer6 = *Endpoint::parse("[2001:db8::15]:5000");
  const Bytes key = stun::longTermKey("alice", "example.org", "secret", stun::PasswordAlgorithm::Md5);
  std::vector<Bytes> msgs;
  {
    stun::MessageBuilder b(stun::Method::Allocate, stun::Class::Request, tid(1));
    b.addRequestedTransport(stun::kTransportUdp).addRequestedAddressFamily(Family::V6).addEvenPort(true);
    b.addU32(stun::attr::Lifetime, 600).addFlag(stun::attr::DontFragment);
    b.addString(stun::attr::Username, "alice").addString(stun::attr::Realm, "example.org").addString(stun::attr::Nonce, "n0nce");
    const stun::PasswordAlgorithm algs[] = {stun::PasswordAlgorithm::Sha256, stun::PasswordAlgorithm::Md5};
    b.addPasswordAlgorithms(algs).addPasswordAlgorithm(stun::PasswordAlgorithm::Md5);
    b.addMessageIntegrity(key).addFingerprint();
    msgs.push_back(std::move(b).finish());
  }
  {
    stun::MessageBuilder b(stun::Method::Allocate, stun::Class::Success, tid(2));
    b.addXorAddress(stun::attr::XorRelayedAddress, peer).addXorAddress(stun::attr::XorRelayedAddress, peer6);
    b.addXorAddress(stun::attr::XorMappedAddress, peer).addU32(stun::attr::Lifetime, 600).addU64(stun::attr::ReservationToken, 42);
    b.addMessageIntegritySha256(key).addFingerprint();
    msgs.push_back(std::move(b).finish());
  }
  {
    stun::MessageBuilder b(stun::Method::Allocate, stun::Class::Error, tid(3));
    const uint16_t unknown[] = {0x0031, 0x7F00};
    b.addErrorCode(420).addUnknownAttributes(unknown).addString(stun::attr::Realm, "example.org").addString(stun::attr::Nonce, "abc");
    msgs.push_back(std::move(b).finish());
  }
  {
    stun::MessageBuilder b(stun::Method::ChannelBind, stun::Class::Request, tid(4));
    b.addChannelNumber(0x4001).addXorAddress(stun::attr::XorPeerAddress, peer).addMessageIntegrity(key);
    msgs.push_back(std::move(b).finish());
  }
  {
    stun::MessageBuilder b(stun::Method::Send, stun::Class::Indication, tid(5));
    const Bytes payload = {'h', 'e', 'l', 'l', 'o'};
    b.addXorAddress(stun::attr::XorPeerAddress, peer6).add(stun::attr::Data, payload);
    msgs.push_back(std::move(b).finish());
  }
  {
    stun::MessageBuilder b(stun::Method::Binding, stun::Class::Request, tid(6));
    b.addChangeRequest(stun::ChangeRequestValue{true, true}).addResponsePort(3479).addPadding(8).addFingerprint();
    msgs.push_back(std::move(b).finish());
  }
  n = 0;
  for (const Bytes& m : msgs) write("stun_message", "turn-" + std::to_string(n++), m);
  // ChannelData: plain, padded, and a TCP stream of several frames.
  Bytes cd, padded, stream;
  const Bytes payload = {1, 2, 3, 4, 5};
  stun::appendChannelData(cd, 0x4001, payload, false);
  stun::appendChannelData(padded, 0x7FFF, payload, true);
  stream = msgs[0];
  stun::appendChannelData(stream, 0x4000, payload, true);
  stream.insert(stream.end(), msgs[3].begin(), msgs[3].end());
  stun::appendChannelData(stream, 0x4002, {}, true);
  write("channel_data", "channeldata-0", cd);
  write("channel_data", "channeldata-1", padded);
  write("channel_data", "stream-0", stream);
  write("stun_message", "channeldata-0", cd);
}

// turn_server programs: [variant] then steps [op][client][args...] (see turn_server.cpp).
void turnSeeds() {
  const Bytes allocate = {1, 0, 0x00, 0, 0};          // Allocate, client 0, plain
  const Bytes allocateEven = {1, 1, 0x26, 0x02, 0x58};  // client 1 (REST), EVEN-PORT R, LIFETIME 600
  const Bytes permit = {3, 0, 0, 0, 0};                // CreatePermission peer 0
  const Bytes permit6 = {3, 3, 2, 0, 0};
  const Bytes send = {5, 0, 0, 0, 0, 4, 'p', 'i', 'n', 'g'};  // lengths of payloads: 2 bytes
  const Bytes bind = {4, 0, 1, 0};                     // ChannelBind 0x4001 to peer 0
  const Bytes cdata = {6, 0, 1, 0, 3, 'a', 'b', 'c'};
  const Bytes peer = {7, 0, 0, 0, 0, 3, 'x', 'y', 'z'};   // peer 0 -> the first allocation's relay
  const Bytes advance = {8, 0, 0x01, 0x2c, 0};         // +300 s
  const Bytes refresh0 = {2, 0, 0x03};                 // Refresh LIFETIME 0
  const Bytes reserve = {1, 2, 0x08, 0, 0};            // client 2 (TCP) with the RESERVATION-TOKEN
  const Bytes close = {9, 2};
  const Bytes retransmit = {11, 0};
  const Bytes mutate = {10, 0, 0, 0, 20, 0x40, 0};
  std::vector<std::vector<Bytes>> programs = {
      {allocate, permit, send, peer, bind, cdata, peer, advance, refresh0},
      {allocateEven, reserve, permit, peer, advance, advance, close},
      {allocate, retransmit, mutate, permit6, send, advance, advance, advance},
      {allocate, allocateEven, {1, 3, 0x11, 0, 0}, permit, permit6, bind, cdata, peer, {8, 0, 0x0e, 0x10, 0}},
  };
  uint8_t variant = 0;
  int n = 0;
  for (const auto& steps : programs) {
    for (uint8_t v : {variant, static_cast<uint8_t>(variant | 5)}) {
      Bytes p{v};
      for (const Bytes& s : steps) p.insert(p.end(), s.begin(), s.end());
      write("turn_server", "program-" + std::to_string(n++), p);
    }
    variant = static_cast<uint8_t>(variant + 2);
  }
}

void enrSeeds() {
  auto eip = enr::EnrRecord::fromText(kEipRecord);
  if (!eip) std::abort();
  write("enr", "eip778-binary", cat(1, eip->encoded()));
  write("enr", "eip778-text", cat(2, kEipRecord));
  write("enr", "eip778-rlp", cat(0, eip->encoded()));
  const char* rlp[] = {"83636174", "c88363617483646f67", "c7c0c1c0c3c0c1c0", "820400", "80", "c0",
                       "b8380000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
                       "bf0100000000000000"};
  int n = 0;
  for (const char* r : rlp) write("enr", "rlp-" + std::to_string(n++), cat(0, hex(r)));
  // Builder program: seq, then [key-len key kind value-len value].
  const Bytes program = {5, 7, 3, 'n', 'a', 't', 0, 8, 'e', 'i', 'm', '/', 'a', 'p', 'd', 'f',
                         3, 't', 'c', 'p', 1, 0, 0, 0x76, 0x5f, 3, 'a', 'p', 'i', 0, 4, 'h', 't', 't', 'p'};
  write("enr", "builder-0", cat(3, program));
  write("enr", "base64-0", cat(4, kEipRecord.substr(4)));
  write("enr", "nat-0", cat(5, "eim/apdf"));
  write("enr", "nat-1", cat(5, "apdm/adf"));
}

void signallingSeeds() {
  auto sender = identity::PrivateKey::fromHex(kSenderKey);
  auto recipient = identity::PrivateKey::fromHex(kEipKey);
  // Deterministic, so re-running rewrites the same bytes.
  struct CountingRng final : signalling::Rng {
    uint8_t n = 0;
    bool fill(std::span<uint8_t> out) override {
      for (auto& b : out) b = ++n;
      return true;
    }
  } rng;
  signalling::EnvelopeHeader h;
  h.from = sender->nodeId();
  h.to = recipient->nodeId();
  h.type = signalling::EnvelopeType::Offer;
  h.seq = 7;
  h.timestampMs = 1'700'000'000'000ULL;
  const std::string body = R"({"sdp":"v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\n"})";
  auto e = signalling::seal(*sender, recipient->publicKey(), h, asBytes(body), rng);
  if (!e) std::abort();
  write("envelope", "binary-0", cat(0, signalling::encodeBinary(*e)));
  write("envelope", "json-0", cat(1, signalling::toJsonText(*e)));
  Bytes sealProgram = {1, 1, 0, 0, 0, 7, 0, 0, 1, 0, static_cast<uint8_t>(body.size())};
  sealProgram.insert(sealProgram.end(), body.begin(), body.end());
  sealProgram.insert(sealProgram.end(), {0, 90, 0x20});
  write("envelope", "seal-0", cat(2, sealProgram));

  using namespace signalling;
  AckFrame ack{h.to, 7, AckStatus::Stored};
  ErrorFrame err{"recipient-mailbox-full", "the recipient's mailbox is full", h.to, 7};
  const Frame frames[] = {ChallengeFrame{h.to, ChallengeNonce{1, 2, 3}, 30000},
                          AuthFrame{h.from, identity::RecoverableSignature{}},
                          WelcomeFrame{h.from, 2},
                          EnvelopeFrame{*e},
                          Frame{ack},
                          Frame{err},
                          ReceivedFrame{h.from, 7},
                          PathReportFrame{"relayed", "host", "relay"}};
  int n = 0;
  for (const Frame& f : frames) write("hub_frames", "frame-" + std::to_string(n++), cat(0, encodeFrame(f)));
  // Sessions: [verify flag] then steps [op][who][args...] (see hub_frames.cpp).
  const std::vector<Bytes> sessions = {
      {1, 0, 0, 0, 1, 1, 0, 1, 1, 1, 2, 0, 1, 1, 1, 20, 'h', 'e', 'l', 'l', 'o', 3, 1, 0, 1},
      {1, 0, 0, 1, 0, 2, 0, 1, 1, 1, 2, 2, 0, 2, 1, 0, 5, 'o', 'f', 'f', 'e', 'r', 0, 1, 1, 1, 6, 0, 0, 10},
      {0, 0, 2, 1, 2, 1, 4, 2, 12, '{', '"', 't', 'y', 'p', 'e', '"', ':', '"', 'a', '"', '}', 7, 2, 1, 0, 3},
  };
  n = 0;
  for (const Bytes& s : sessions) write("hub_frames", "session-" + std::to_string(n++), cat(1, s));
  // The compact wire: the same frames in CBOR, and RFC 8949 Appendix A items (accepted and refused).
  n = 0;
  for (const Frame& f : frames) write("cbor", "frame-" + std::to_string(n++), cat(1, encodeFrameCbor(f)));
  n = 0;
  for (const char* h : {"1bffffffffffffffff", "3903e7", "64f0908591", "8301820203820405",
                          "a26161016162820203", "826161a161626163", "f4", "c249010000000000000000", "f93c00",
                          "9f018202039f0405ffff", "1818"}) {
    write("cbor", "value-" + std::to_string(n++), cat(0, hex(h)));
  }
}

void httpSeeds() {
  auto key = identity::PrivateKey::fromHex(kEipKey);
  write("http_api", "query-0", cat(0, "namespace=chat&limit=10"));
  write("http_api", "query-1", cat(0, "namespace=chat&limit=99999999999999999999999&cookie=Y2hhdDox"));
  write("http_api", "query-2", cat(0, "since=2026-11-01&until=2026-11-30&by=day&username=bob"));
  write("http_api", "query-3", cat(0, "since=2026-02-30&by=class&username=a:b"));
  // Registry writes carry a proof of possession: time (unix ms) and the record key's signature.
  auto eip = enr::EnrRecord::fromText(kEipRecord);
  const int64_t ms = 1'700'000'000'000;
  const std::string proof = R"(,"time":)" + std::to_string(ms) + R"(,"signature":")";
  auto reg = key->sign(registry::registerDigest("chat", eip->encoded(), 7200, ms));
  write("http_api", "post-0", cat(1, std::string(R"({"namespace":"chat","enr":")") + std::string(kEipRecord) +
                                         R"(","ttl":7200)" + proof + toHex(*reg) + "\"}"));
  write("http_api", "post-1", cat(1, std::string(R"({"namespace":"","enr":")") + std::string(kEipRecord) + R"(","ttl":-5})"));
  auto sig = key->sign(registry::unregisterDigest("chat", eip->nodeId(), eip->seq(), ms));
  write("http_api", "delete-0", cat(2, std::string(R"({"namespace":"chat","node_id":")") + eip->nodeId().hex() + "\"" +
                                            proof + "0x" + toHex(*sig) + "\"}"));
  write("http_api", "delete-1", cat(2, R"({"namespace":"chat","node_id":"00","signature":"zz"})"));
  // RDV-Sig for the fuzz target's node id (the key 11..11) at its fixed time.
  const auto node = identity::PrivateKey::fromHex(std::string(64, '1'))->nodeId();
  const int64_t now = 1'700'000'000;
  auto ice = key->signRecoverable(identity::apiRequestDigest(identity::kIceServersDomain, node, now));
  write("http_api", "auth-0", cat(3, "RDV-Sig " + eip->nodeId().hex() + ":" + std::to_string(now) + ":" + toHex(*ice)));
  write("http_api", "auth-1", cat(3, "Bearer fuzz-secret-0123456789?username=app-user"));
  write("http_api", "auth-2", cat(3, "RDV-Sig 00:1:00"));
}

void configSeeds(const fs::path& source) {
  std::ifstream in(source / "configs/node.json");
  std::stringstream ss;
  ss << in.rdbuf();
  if (ss.str().empty()) std::abort();
  write("node_config", "node-json", ss.str());
  write("node_config", "minimal", R"({"listen": ["127.0.0.1:0"]})");
  write("node_config", "quota", R"({
  // comments are allowed
  "listen": ["127.0.0.1:3478", "[::1]:3478"], "relay-ports": "50000-50100", "auth-secret": ["s3cret-0123456789"],
  "quota-classes": {"gold": {"bytes-per-second": 1000000, "burst": 65536, "bytes-per-day": 1000000000,
                             "allocations": 4, "max-lifetime": 3600, "bytes-per-allocation": 100000000}},
  "quota-members": {"alice": "gold"}, "limited-class": {"bytes-per-second": 1, "burst": 1500},
  "bps-capacity": 1, "max-allocations": 2, "allow-peer": ["10.0.0.0/8"], "deny-peer": ["::/0"],
  "alt-address": "127.0.0.2", "admin-listen": "127.0.0.1:0", "admin-token": "0123456789abcdef",
  "signal-max-envelope-bytes": 1024, "signal-max-frame-bytes": 4096})");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2 && argc != 3) {
    std::cerr << "usage: fuzz_seed_corpus CORPUS_DIR [SOURCE_DIR]\n";
    return 2;
  }
  g_root = argv[1];
  const fs::path source = argc == 3 ? fs::path(argv[2]) : g_root.parent_path().parent_path().parent_path();
  stunSeeds();
  turnSeeds();
  enrSeeds();
  signallingSeeds();
  httpSeeds();
  configSeeds(source);
  std::cout << "seed corpora written under " << g_root << "\n";
  return 0;
}
