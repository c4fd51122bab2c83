// The signalling WebSocket (/v1/signal): its JSON text frames, and the hub that reads them. The first
// byte picks:
//   0: decodeFrame() of one text frame: a decoded frame re-encodes (both writers give the same text) and
//      decodes to the same frame; a refusal has an error code;
//   1: a session: three connections to one Hub (in-memory mailbox, fake clock, small limits); two of
//      them answer the challenge with real keys. Steps send fuzzed text, valid envelopes sealed to the
//      other identity, "received" confirmations, disconnects and reconnects, and move the clock. Every
//      frame the hub sends decodes; the mailbox stays within its limits; counters never go down; a
//      closed connection gets nothing more. Topics and presence too: publications (signed by the
//      connection's identity or another), subscribe/unsubscribe, a members record for a restricted topic,
//      watch/unwatch, presence opt-in at auth; retained history stays within its byte and topic limits and
//      is gone after its TTL, watches stay within their per-connection limit.
#include <chrono>
#include <cstdint>
#include <map>
#include <set>
#include <string>

#include "signalling/envelope/envelope_codec.h"
#include "signalling/hub/frames.h"
#include "signalling/hub/hub.h"
#include "signalling/hub/mailbox_store.h"
#include "tests/fuzz/check.h"
#include "tests/fuzz/fuzz_input.h"

using namespace rdv;
using namespace rdv::signalling;

namespace {

void oneFrame(std::string_view text) {
  auto f = decodeFrame(text);
  if (!f) {
    FUZZ_CHECK(!frameErrorCode(f.error()).empty());
    return;
  }
  const std::string encoded = encodeFrame(*f);
  FUZZ_CHECK(encoded == encodeFrameGeneric(*f));
  if (const auto* e = std::get_if<EnvelopeFrame>(&*f)) FUZZ_CHECK(encodeEnvelopeFrame(e->envelope) == encoded);
  auto again = decodeFrame(encoded);
  FUZZ_CHECK(again.ok() && *again == *f);
}

class CounterRng final : public Rng {
 public:
  bool fill(std::span<uint8_t> out) override {
    for (auto& b : out) b = static_cast<uint8_t>(++n_ * 131 + 7);
    return true;
  }

 private:
  uint64_t n_ = 0;
};

const identity::PrivateKey& key(int i) {
  static const auto a = identity::PrivateKey::fromHex("4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318");
  static const auto b = identity::PrivateKey::fromHex("b71c71a67e1177ad4e901695e1b4b9ee17ae16c6668d313eac2f96dbcda3f291");
  static const auto hub = identity::PrivateKey::fromHex("0101010101010101010101010101010101010101010101010101010101010101");
  return i == 0 ? *a : i == 1 ? *b : *hub;
}

struct HubCounters {
  uint64_t v[12];
};
HubCounters counters(const HubStats& s) {
  return {{s.authSucceeded, s.authFailed, s.replaced, s.delivered, s.stored, s.deliveredStored, s.confirmed,
           s.expired, s.refused, s.rateLimited, s.pathReports, s.storeErrors}};
}

void session(fuzz::FuzzInput& in) {
  HubConfig config;
  config.hubId = key(2).nodeId();
  config.mailbox.perRecipient = 4;
  config.mailbox.total = 6;
  config.mailbox.totalBytes = 4096;
  config.mailboxTtl = std::chrono::seconds(60);
  config.maxCiphertextBytes = 1024;
  config.maxFrameBytes = maxEnvelopeFrameBytes(config.maxCiphertextBytes);
  config.verifySignatures = in.flag();
  config.topics.historyMessages = 3;
  config.topics.historyTtl = std::chrono::seconds(30);
  config.topics.maxTopics = 4;
  config.topics.subscriptionsPerConnection = 2;
  config.topics.historyBytes = 2048;
  config.topics.maxBodyBytes = 256;
  config.topics.publishPerSecond = 2;
  config.topics.publishBurst = 4;
  config.presence.watchesPerConnection = 2;
  MemoryMailboxStore store;
  CounterRng rng;
  Hub hub(config, store, rng);
  hub.setPresenceSigner([](const identity::Hash256& d) -> std::optional<identity::RecoverableSignature> {
    auto s = key(2).signRecoverable(d);
    if (!s) return std::nullopt;
    return *s;
  });
  const std::string restricted = key(0).nodeId().hex() + "/r";
  auto topicName = [&](uint8_t b) -> std::string {
    static const char* names[] = {"a", "b", "c", "d", "e"};
    return b % 6 == 5 ? restricted : names[b % 6];
  };
  TimePoint now = TimePoint{} + std::chrono::hours(480000);
  FUZZ_CHECK(hub.load(now).ok());

  ConnId ids[3] = {1, 2, 3};
  std::set<ConnId> open, closed;
  std::map<ConnId, ChallengeNonce> challenges;
  uint64_t seq[2] = {0, 0};
  HubCounters before = counters(hub.stats());

  auto drain = [&] {
    while (auto c = hub.nextCommand()) {
      if (auto* s = std::get_if<SendFrame>(&*c)) {
        FUZZ_CHECK(open.count(s->conn) == 1);
        auto f = decodeFrame(s->text);
        FUZZ_CHECK(f.ok());
        if (auto* ch = std::get_if<ChallengeFrame>(&*f)) {
          FUZZ_CHECK(ch->hub == config.hubId);
          challenges[s->conn] = ch->nonce;
        }
        if (auto* pf = std::get_if<PresenceFrame>(&*f)) FUZZ_CHECK(verifyPresence(config.hubId, pf->event));
        if (auto* pub = std::get_if<PublishFrame>(&*f); pub && config.verifySignatures) {
          FUZZ_CHECK(verifyPublication(pub->publication));  // fanned out only when the hub checked it
        }
        // The I/O layer's half of a forward (hub.h): report whether the recipient's connection took it.
        // Every third is refused (a full output queue), so back-pressure is exercised too.
        if (s->forward) hub.forwarded(*s->forward, *s->forward % 3 != 0, now);
      } else if (auto* cl = std::get_if<CloseConnection>(&*c)) {
        FUZZ_CHECK(open.count(cl->conn) == 1);
        open.erase(cl->conn);
        closed.insert(cl->conn);
        hub.disconnected(cl->conn);
      }
    }
    FUZZ_CHECK(hub.mailbox().size() <= config.mailbox.total);
    FUZZ_CHECK(hub.mailbox().bytes() <= config.mailbox.totalBytes);
    FUZZ_CHECK(hub.mailbox().size() == store.size());
    FUZZ_CHECK(hub.topics().historyBytes() <= config.topics.historyBytes);
    FUZZ_CHECK(hub.topics().topics() <= config.topics.maxTopics);
    FUZZ_CHECK(hub.presence().watches() <= 3 * config.presence.watchesPerConnection);
    const HubCounters after = counters(hub.stats());
    for (size_t i = 0; i < 12; ++i) FUZZ_CHECK(after.v[i] >= before.v[i]);
    before = after;
  };

  for (int step = 0; step < 64 && !in.empty(); ++step) {
    const uint8_t op = in.u8();
    const int who = in.u8() % 3;
    ConnId& conn = ids[who];
    switch (op % 11) {
      case 0:  // (re)connect
        if (open.count(conn) == 1) {
          hub.disconnected(conn);
          open.erase(conn);
        }
        conn += 3;  // a new connection id
        open.insert(conn);
        hub.connected(conn, now);
        break;
      case 1:  // answer the challenge (the third client signs with the wrong key, or replays)
        if (open.count(conn) == 1 && challenges.count(conn) == 1) {
          const int signer = who == 2 ? in.u8() % 3 : who;
          auto sig = signChallenge(key(signer), config.hubId, challenges[conn]);
          FUZZ_CHECK(sig.ok());
          AuthFrame a{key(who == 2 ? 0 : who).nodeId(), *sig, in.flag()};
          hub.handleFrame(conn, encodeFrame(Frame{a}), now);
        }
        break;
      case 2:  // an envelope sealed to the other identity (or to itself, or to nobody known)
        if (open.count(conn) == 1) {
          const int from = who == 2 ? 0 : who;
          EnvelopeHeader h;
          h.from = key(from).nodeId();
          const uint8_t to = in.u8() % 3;
          h.to = key(to).nodeId();
          h.type = typeFromByte(1 + in.u8() % 6).value_or(EnvelopeType::Message);
          h.seq = in.flag() ? ++seq[from] : in.u8();
          h.timestampMs = 1'700'000'000'000ULL;
          auto e = seal(key(from), key(to).publicKey(), h, in.bytes(1100), rng);
          if (e) hub.handleFrame(conn, encodeEnvelopeFrame(*e), now);
        }
        break;
      case 3:  // received: confirm what came from the other identity
        if (open.count(conn) == 1) {
          ReceivedFrame r{key(in.u8() % 3).nodeId(), in.u8()};
          hub.handleFrame(conn, encodeFrame(Frame{r}), now);
        }
        break;
      case 4:  // fuzzed text
        if (open.count(conn) == 1) hub.handleFrame(conn, in.text(2048), now);
        break;
      case 5:
        if (open.count(conn) == 1) {
          hub.disconnected(conn);
          open.erase(conn);
          closed.insert(conn);
        }
        break;
      case 6:  // the clock moves; the timer fires
        now += std::chrono::milliseconds(in.u16()) * 8;
        hub.handleTimeout(now);
        break;
      case 7:  // a path report
        if (open.count(conn) == 1) {
          static const char* kinds[] = {"host", "srflx", "prflx", "relay", "bogus"};
          PathReportFrame p{in.flag() ? "direct" : "relayed", kinds[in.u8() % 5], kinds[in.u8() % 5]};
          hub.handleFrame(conn, encodeFrame(Frame{p}), now);
        }
        break;
      case 8:  // a publication, signed by this connection's identity or the other's
        if (open.count(conn) == 1) {
          const ByteSpan body = in.bytes(300);
          Publication p{{}, topicName(in.u8()), in.u8(), 1'700'000'000'000ULL, Bytes(body.begin(), body.end()), {}};
          auto signedPub = signPublication(key(in.u8() % 2), p);
          FUZZ_CHECK(signedPub.ok());
          if (in.flag() && !signedPub->body.empty()) signedPub->body[0] ^= 1;  // a broken signature
          hub.handleFrame(conn, encodeFrame(Frame{PublishFrame{*signedPub}}), now);
        }
        break;
      case 9:  // subscribe or unsubscribe
        if (open.count(conn) == 1) {
          const std::string t = topicName(in.u8());
          hub.handleFrame(conn, in.flag() ? encodeFrame(Frame{SubscribeFrame{t}}) : encodeFrame(Frame{UnsubscribeFrame{t}}),
                          now);
        }
        break;
      case 10:  // the restricted topic's members record (by its owner or not), or watch/unwatch
        if (open.count(conn) == 1) {
          const uint8_t what = in.u8();
          if (what % 3 == 0) {
            MembersRecord r{restricted, {}, {}, in.u8(), {}};
            if (in.flag()) r.members.push_back(key(1).nodeId());
            auto rec = signMembers(key(in.u8() % 2), r);
            FUZZ_CHECK(rec.ok());
            hub.handleFrame(conn, encodeFrame(Frame{TopicMembersFrame{*rec}}), now);
          } else {
            std::vector<NodeId> ids{key(in.u8() % 3).nodeId()};
            if (in.flag()) ids.push_back(key(in.u8() % 3).nodeId());
            hub.handleFrame(conn, what % 3 == 1 ? encodeFrame(Frame{WatchFrame{ids}}) : encodeFrame(Frame{UnwatchFrame{ids}}),
                            now);
          }
        }
        break;
    }
    drain();
    if (hub.mailbox().size() > 0) FUZZ_CHECK(hub.nextDeadline().has_value());  // stored envelopes expire
  }
  // The mailbox empties at its TTL. The first round may still store envelopes whose forward the I/O
  // layer reports as refused (back-pressure); nothing is forwarded after it, so the second round empties it.
  for (int round = 0; round < 2; ++round) {
    now += config.mailboxTtl + std::chrono::seconds(1);
    hub.handleTimeout(now);
    drain();
  }
  FUZZ_CHECK(hub.mailbox().size() == 0);
  FUZZ_CHECK(hub.topics().historyBytes() == 0);  // retained messages are gone after their TTL
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  if (data[0] % 2 == 0) {
    oneFrame(std::string_view(reinterpret_cast<const char*>(data + 1), size - 1));
  } else {
    fuzz::FuzzInput in(data + 1, size - 1);
    session(in);
  }
  return 0;
}
