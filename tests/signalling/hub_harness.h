// Drives a Hub like the daemon would, with a fake clock: clients connect, answer the challenge,
// send envelopes; the commands that come out are decoded back into frames for assertions.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "signalling/hub/hub.h"
#include "signalling/hub/sqlite_mailbox_store.h"
#include "tests/signalling/test_support.h"

namespace rdv::signalling::test {

using namespace std::chrono_literals;

struct Client {
  ConnId conn = 0;
  identity::PrivateKey key;
  uint64_t seq = 0;
};

inline std::vector<Frame> framesTo(const std::vector<HubCommand>& cmds, ConnId conn) {
  std::vector<Frame> out;
  for (const auto& c : cmds) {
    if (const auto* s = std::get_if<SendFrame>(&c); s && s->conn == conn) {
      auto f = decodeFrame(s->text);
      EXPECT_TRUE(f.ok()) << s->text;
      if (f) out.push_back(*f);
    }
  }
  return out;
}

inline std::vector<CloseConnection> closes(const std::vector<HubCommand>& cmds) {
  std::vector<CloseConnection> out;
  for (const auto& c : cmds) {
    if (const auto* x = std::get_if<CloseConnection>(&c)) out.push_back(*x);
  }
  return out;
}

template <class T>
std::vector<T> only(const std::vector<Frame>& frames) {
  std::vector<T> out;
  for (const auto& f : frames) {
    if (const auto* t = std::get_if<T>(&f)) out.push_back(*t);
  }
  return out;
}

class HubHarness {
 public:
  HubHarness(HubConfig config, MailboxStore& store) : config_(config), store_(&store) { restart(); }

  // A fresh Hub over the same store, as after a process restart.
  void restart() {
    hub_ = std::make_unique<Hub>(config_, *store_, rng_);
    auto loaded = hub_->load(now);
    EXPECT_TRUE(loaded.ok());
  }

  Hub& hub() { return *hub_; }
  // Performs the commands like the daemon: a forwarded envelope is written unless its recipient is in
  // `congested` (a client that stopped reading), and the hub is told which (Hub::forwarded). Returns
  // the commands performed (a forward that was not written is left out).
  std::vector<HubCommand> drain() {
    std::vector<HubCommand> out;
    while (auto c = hub_->nextCommand()) {
      if (auto* s = std::get_if<SendFrame>(&*c); s && s->forward) {
        const bool written = !congested.contains(s->conn);
        const uint64_t ticket = *s->forward;
        if (written) out.push_back(std::move(*c));
        hub_->forwarded(ticket, written, now);
        continue;
      }
      out.push_back(std::move(*c));
    }
    return out;
  }

  ChallengeFrame connect(ConnId conn) {
    hub_->connected(conn, now);
    auto challenges = only<ChallengeFrame>(framesTo(drain(), conn));
    EXPECT_EQ(challenges.size(), 1u);
    return challenges.empty() ? ChallengeFrame{} : challenges.front();
  }

  static std::string authText(const identity::PrivateKey& key, const NodeId& hubId, const ChallengeNonce& nonce) {
    return encodeFrame(AuthFrame{key.nodeId(), *signChallenge(key, hubId, nonce)});
  }

  // Connects and authenticates; returns everything the hub sent in answer to the auth frame.
  std::vector<HubCommand> login(const Client& c) {
    const auto challenge = connect(c.conn);
    hub_->handleFrame(c.conn, authText(c.key, challenge.hub, challenge.nonce), now);
    auto cmds = drain();
    auto welcome = only<WelcomeFrame>(framesTo(cmds, c.conn));
    EXPECT_EQ(welcome.size(), 1u);
    return cmds;
  }

  Envelope envelope(Client& from, const identity::PrivateKey& to, std::string_view body,
                    EnvelopeType type = EnvelopeType::Message) {
    EnvelopeHeader h{from.key.nodeId(), to.nodeId(), type, ++from.seq, 1700000000000ull};
    return *seal(from.key, to.publicKey(), h, asBytes(body), rng_);
  }

  std::vector<HubCommand> send(const Client& from, const Envelope& e) {
    hub_->handleFrame(from.conn, encodeFrame(EnvelopeFrame{e}), now);
    return drain();
  }

  // The recipient confirms everything from `sender` up to `seq`.
  std::vector<HubCommand> confirm(const Client& recipient, const NodeId& sender, uint64_t seq) {
    hub_->handleFrame(recipient.conn, encodeFrame(ReceivedFrame{sender, seq}), now);
    return drain();
  }

  void advance(std::chrono::milliseconds d) { now += d; }

  TimePoint now = fromUnixMillis(1'700'000'000'000);
  std::set<ConnId> congested;

 private:
  HubConfig config_;
  MailboxStore* store_;
  ScriptedRng rng_;
  std::unique_ptr<Hub> hub_;
};

// The body of a received envelope, as the recipient would read it.
inline std::string openBody(const Envelope& e, const identity::PrivateKey& recipient) {
  auto v = verify(e);
  if (!v) return "<verify failed: " + std::string(errorCode(v.error())) + ">";
  auto body = open(*v, recipient);
  if (!body) return "<open failed: " + std::string(errorCode(body.error())) + ">";
  return std::string(asString(*body));
}

}  // namespace rdv::signalling::test
