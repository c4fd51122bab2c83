// rdv-apibench --scenario signal: N WebSocket clients on the node's /v1/signal, each with its own
// secp256k1 key (challenge/auth), in pairs (client 2k <-> 2k+1). Phases:
//   1. keys and envelopes: every client seals and signs `pool` envelopes to its partner before
//      anything is timed (client-side crypto is not what is measured);
//   2. connect and authenticate all; the server's RSS before and after, idle, gives bytes per
//      connection (--server-pid);
//   3. warm-up: one envelope each way per pair, opened and checked in full by the recipient
//      (signature, decryption, body);
//   4. timed: each client keeps `window` envelopes unacknowledged (or, with --rate, envelopes are
//      sent at that total rate round-robin); the recipient checks every forwarded envelope's sender
//      and sequence number, and its latency is receive time minus send time (FIFO per direction:
//      the hub keeps each connection's order).
// Pool envelopes are re-sent cyclically when a run needs more than `pool` per client: the hub does
// the same work for a repeat (it verifies signatures; replay checks are the recipient's), and the
// recipient here matches them by position.
#include "bench/api/signal_load.h"

#include <algorithm>
#include <cstring>
#include <deque>
#include <memory>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "bench/api/tcp.h"
#include "rendezvous/identity/private_key.h"
#include "signalling/envelope/envelope.h"
#include "signalling/envelope/envelope_codec.h"
#include "signalling/hub/auth.h"
#include "signalling/hub/frames.h"

namespace rdv::bench {
namespace {

using identity::PrivateKey;
using signalling::Envelope;
using signalling::EnvelopeHeader;

enum class State { Connecting, Upgrading, Challenged, Authenticated, Closed };

struct Client {
  TcpConn tcp;
  State state = State::Connecting;
  size_t index = 0;
  std::string expectedAccept;
  std::vector<std::string> pool;  // ready-to-write masked WebSocket frames
  uint64_t sent = 0;              // envelopes sent (all phases)
  uint64_t acked = 0;
  uint64_t received = 0;          // envelopes received from the partner (all phases)
  std::deque<int64_t> sendTimes;  // of envelopes to the partner not received by it yet
  std::string message;            // reassembly of a fragmented text message
};

struct Run {
  const SignalOptions& o;
  Epoll loop;
  std::vector<std::unique_ptr<Client>> clients;
  std::vector<PrivateKey> keys;
  std::vector<std::string> nodeHex;
  std::vector<std::string> bodies;
  signalling::CryptoRng rng;
  size_t authenticated = 0;
  size_t closed = 0;
  uint64_t invalid = 0;
  uint64_t hubErrors = 0;
  std::string lastError;
  bool timing = false;
  int64_t timedStart = 0, timedEnd = 0;
  uint64_t timedReceived = 0;
  std::vector<int64_t> latencies;
  bool verifyFully = false;  // warm-up: open every envelope

  explicit Run(const SignalOptions& opts) : o(opts) {}

  size_t partner(size_t i) const { return i ^ 1; }

  void fail(Client& c, const std::string& why) {
    if (lastError.empty()) lastError = "client " + std::to_string(c.index) + ": " + why;
    ++invalid;
    closeClient(c);
  }

  void closeClient(Client& c) {
    if (c.state == State::Closed) return;
    if (c.state == State::Authenticated) --authenticated;
    c.state = State::Closed;
    c.tcp.close(loop);
    ++closed;
  }

  bool makeKeys(std::string& error) {
    for (size_t i = 0; i < o.clients; ++i) {
      Bytes secret(32, 0);
      const uint64_t v = o.keyOffset + i + 1;
      for (int b = 0; b < 8; ++b) secret[31 - b] = static_cast<uint8_t>(v >> (8 * b));
      secret[0] = 0x5a;  // away from the small keys other benchmarks use
      auto key = PrivateKey::fromBytes(secret);
      if (!key) {
        error = "key generation failed";
        return false;
      }
      nodeHex.push_back(key->nodeId().hex());
      keys.push_back(std::move(*key));
    }
    return true;
  }

  bool buildPools(std::string& error) {
    const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch()).count();
    for (size_t i = 0; i < o.clients; ++i) {
      auto c = std::make_unique<Client>();
      c->index = i;
      std::string body(o.body, 'x');
      const std::string tag = "bench " + std::to_string(i) + " ";
      std::memcpy(body.data(), tag.data(), std::min(tag.size(), body.size()));
      bodies.push_back(body);
      for (size_t k = 0; k < o.pool; ++k) {
        EnvelopeHeader h;
        h.from = keys[i].nodeId();
        h.to = keys[partner(i)].nodeId();
        h.type = signalling::EnvelopeType::Message;
        h.seq = k + 1;
        h.timestampMs = static_cast<uint64_t>(now);
        auto e = signalling::seal(keys[i], keys[partner(i)].publicKey(), h, asBytes(body), rng);
        if (!e) {
          error = std::string("seal failed: ") + signalling::errorCode(e.error());
          return false;
        }
        c->pool.push_back(maskedFrame(1, signalling::encodeFrame(signalling::EnvelopeFrame{std::move(*e)})));
      }
      clients.push_back(std::move(c));
    }
    return true;
  }

  // Client 2k+1 at the second node when there is one: every envelope then crosses the fleet.
  const Endpoint& serverOf(const Client& c) const { return o.server2 && c.index % 2 == 1 ? *o.server2 : o.server; }

  void startConnect(Client& c) {
    std::string error;
    if (!c.tcp.connect(serverOf(c), error)) {
      fail(c, error);
      return;
    }
    loop.add(c.tcp.fd, &c, true);
    c.tcp.writeArmed = true;
  }

  void sendEnvelope(Client& c) {
    const std::string& frame = c.pool[c.sent % c.pool.size()];
    clients[partner(c.index)]->sendTimes.push_back(monoNs());  // kept on the recipient's side
    ++c.sent;
    if (!c.tcp.send(loop, frame)) fail(c, "send failed");
  }

  void onText(Client& c, std::string_view text) {
    if (c.state == State::Challenged) {
      auto f = signalling::decodeFrame(text);
      if (f && std::holds_alternative<signalling::ChallengeFrame>(*f)) {
        const auto& ch = std::get<signalling::ChallengeFrame>(*f);
        auto sig = signalling::signChallenge(keys[c.index], ch.hub, ch.nonce);
        if (!sig) return fail(c, "cannot sign the challenge");
        const std::string auth = signalling::encodeFrame(signalling::AuthFrame{keys[c.index].nodeId(), *sig});
        if (!c.tcp.send(loop, maskedFrame(1, auth))) fail(c, "send failed");
        return;
      }
      if (f && std::holds_alternative<signalling::WelcomeFrame>(*f)) {
        c.state = State::Authenticated;
        ++authenticated;
        return;
      }
      return fail(c, "unexpected frame during authentication: " + std::string(text.substr(0, 160)));
    }
    // Authenticated: envelopes from the partner, acks for ours, errors.
    if (text.find("\"type\":\"ack\"") != std::string_view::npos) {
      if (text.find("\"status\":\"delivered\"") == std::string_view::npos)
        return fail(c, "ack not 'delivered': " + std::string(text.substr(0, 160)));
      ++c.acked;
      if (timing && o.rate == 0 && c.sent - c.acked < o.window) sendEnvelope(c);
      return;
    }
    if (text.find("\"type\":\"envelope\"") != std::string_view::npos) return onEnvelope(c, text);
    ++hubErrors;
    if (lastError.empty()) lastError = "hub said: " + std::string(text.substr(0, 200));
  }

  void onEnvelope(Client& c, std::string_view text) {
    const size_t from = partner(c.index);
    Client& sender = *clients[from];
    const uint64_t expectedSeq = c.received % o.pool + 1;
    // Cheap checks on every envelope: the sender's node id and the sequence number in order.
    const std::string fromKey = "\"from\":\"" + nodeHex[from] + "\"";
    const std::string seqKey = "\"seq\":" + std::to_string(expectedSeq);
    const size_t seqAt = text.find(seqKey);
    const bool seqOk = seqAt != std::string_view::npos && seqAt + seqKey.size() < text.size() &&
                       (text[seqAt + seqKey.size()] == ',' || text[seqAt + seqKey.size()] == '}');
    if (text.find(fromKey) == std::string_view::npos || !seqOk)
      return fail(c, "envelope out of order or from the wrong sender: " + std::string(text.substr(0, 120)));
    if (verifyFully) {
      auto f = signalling::decodeFrame(text);
      if (!f || !std::holds_alternative<signalling::EnvelopeFrame>(*f)) return fail(c, "envelope frame does not decode");
      auto v = signalling::verify(std::get<signalling::EnvelopeFrame>(*f).envelope);
      if (!v) return fail(c, std::string("forwarded envelope does not verify: ") + signalling::errorCode(v.error()));
      auto body = signalling::open(*v, keys[c.index]);
      if (!body || std::string(body->begin(), body->end()) != bodies[from])
        return fail(c, "forwarded envelope does not open to what was sealed");
    }
    ++c.received;
    const int64_t now = monoNs();
    if (c.sendTimes.empty()) return fail(c, "an envelope that was not sent");
    const int64_t sentAt = c.sendTimes.front();
    c.sendTimes.pop_front();
    if (timedStart > 0 && sentAt >= timedStart) {
      // Sent in the timed phase: its latency counts even when it arrives while draining (a slow
      // server must not look fast by leaving out its slowest envelopes); the rate counts only
      // what arrived within the phase.
      latencies.push_back(now - sentAt);
      if (timing && now <= timedEnd) ++timedReceived;
    }
    (void)sender;
  }

  void onReadable(Client& c) {
    if (!c.tcp.readAvailable()) {
      if (lastError.empty()) lastError = "client " + std::to_string(c.index) + ": the hub closed the connection";
      closeClient(c);
      return;
    }
    if (c.state == State::Upgrading) {
      const long n = parseUpgradeAnswer(c.tcp.pending(), c.expectedAccept);
      if (n == 0) return;
      if (n < 0) return fail(c, "WebSocket upgrade refused: " + std::string(c.tcp.pending().substr(0, 80)));
      c.tcp.consume(static_cast<size_t>(n));
      c.state = State::Challenged;
    }
    while (c.state != State::Closed) {
      bool bad = false;
      auto f = parseFrame(c.tcp.pending(), 1 << 20, bad);
      if (bad) return fail(c, "bad WebSocket frame from the hub");
      if (!f) return;
      const WsFrame frame = *f;
      if (frame.opcode == 8) {
        if (lastError.empty())
          lastError = "client " + std::to_string(c.index) + ": hub closed: " + std::string(frame.payload.substr(std::min<size_t>(2, frame.payload.size())));
        closeClient(c);
        return;
      }
      if (frame.opcode == 9) {
        c.tcp.send(loop, maskedFrame(10, frame.payload));
      } else if (frame.opcode == 1 || frame.opcode == 0) {
        if (frame.fin && c.message.empty()) {
          onText(c, frame.payload);
        } else {
          c.message.append(frame.payload);
          if (frame.fin) {
            std::string m;
            m.swap(c.message);
            onText(c, m);
          }
        }
      }
      if (c.state != State::Closed) c.tcp.consume(frame.size);
    }
  }

  void onEvent(Client& c, uint32_t events) {
    if (c.state == State::Closed) return;
    if (c.state == State::Connecting) {
      if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) return;
      if (int err = c.tcp.connectResult(); err != 0) return fail(c, std::string("connect: ") + std::strerror(err));
      c.state = State::Upgrading;
      c.tcp.writeArmed = true;
      if (!c.tcp.send(loop, webSocketUpgrade(serverOf(c), "/v1/signal", c.expectedAccept))) return fail(c, "send failed");
      if (!c.tcp.flush(loop)) return fail(c, "send failed");
      return;
    }
    if (events & EPOLLOUT) {
      if (!c.tcp.flush(loop)) return fail(c, "send failed");
    }
    if (events & (EPOLLIN | EPOLLERR | EPOLLHUP)) onReadable(c);
  }

  void poll(int timeoutMs) {
    epoll_event events[256];
    const int n = loop.wait(events, 256, timeoutMs);
    for (int i = 0; i < n; ++i) onEvent(*static_cast<Client*>(events[i].data.ptr), events[i].events);
  }

  // Connects everyone, at most `o.connectBatch` handshakes pending at a time.
  bool connectAll(std::string& error) {
    size_t next = 0;
    const int64_t deadline = monoNs() + static_cast<int64_t>(o.setupSeconds * 1e9);
    while (authenticated + closed < clients.size()) {
      while (next < clients.size() && next - (authenticated + closed) < o.connectBatch) {
        startConnect(*clients[next]);
        ++next;
      }
      poll(10);
      if (monoNs() > deadline) {
        error = "only " + std::to_string(authenticated) + " of " + std::to_string(clients.size()) +
                " clients authenticated in time";
        return false;
      }
    }
    if (authenticated < clients.size()) {
      error = std::to_string(closed) + " clients failed to connect or authenticate: " + lastError;
      return false;
    }
    return true;
  }

  // Runs the loop until `done()` or the deadline; false on timeout.
  template <typename Done>
  bool runUntil(Done done, double seconds) {
    const int64_t deadline = monoNs() + static_cast<int64_t>(seconds * 1e9);
    while (!done()) {
      if (monoNs() > deadline) return false;
      poll(5);
    }
    return true;
  }

  uint64_t totalSent() const {
    uint64_t n = 0;
    for (const auto& c : clients) n += c->sent;
    return n;
  }
  uint64_t totalReceived() const {
    uint64_t n = 0;
    for (const auto& c : clients) n += c->received;
    return n;
  }
  uint64_t totalAcked() const {
    uint64_t n = 0;
    for (const auto& c : clients) n += c->acked;
    return n;
  }

  bool warmUp(std::string& error) {
    verifyFully = true;
    for (auto& c : clients) sendEnvelope(*c);
    const bool ok = runUntil([&] { return totalReceived() >= clients.size() || closed > 0; }, o.setupSeconds);
    verifyFully = false;
    if (!ok || closed > 0) {
      error = "warm-up: " + std::to_string(totalReceived()) + " of " + std::to_string(clients.size()) +
              " envelopes arrived" + (lastError.empty() ? "" : ": " + lastError);
      return false;
    }
    return runUntil([&] { return totalAcked() >= clients.size(); }, o.setupSeconds);
  }

  void timed() {
    timing = true;
    timedStart = monoNs();
    timedEnd = timedStart + static_cast<int64_t>(o.duration * 1e9);
    const uint64_t sentBefore = totalSent();
    auto countReached = [&] { return o.count > 0 && totalSent() - sentBefore >= o.count; };
    if (o.rate == 0) {
      for (auto& c : clients)
        for (size_t k = 0; k < o.window && !countReached(); ++k) sendEnvelope(*c);
      // A server starved by a loaded machine may deliver nothing within a short window (the smoke run's):
      // the window is extended by its own length until the first envelope arrives, up to setupSeconds,
      // so the rates are always taken over work the server did.
      const int64_t length = timedEnd - timedStart;
      const int64_t hardEnd = timedEnd + static_cast<int64_t>(o.setupSeconds * 1e9);
      while (closed == 0 && !(countReached() && totalReceived() >= totalSent())) {
        if (monoNs() >= timedEnd) {
          if (timedReceived > 0 || timedEnd >= hardEnd) break;
          timedEnd += length;
        }
        poll(5);
      }
    } else {
      size_t rr = 0;
      while (monoNs() < timedEnd && closed == 0 && !countReached()) {
        const double elapsed = static_cast<double>(monoNs() - timedStart) / 1e9;
        const uint64_t due = static_cast<uint64_t>(elapsed * o.rate);
        while (totalSent() - sentBefore < due && !countReached()) {
          Client& c = *clients[rr++ % clients.size()];
          if (c.sent - c.acked < 256) sendEnvelope(c);
        }
        poll(1);
      }
    }
    timedEnd = std::min(timedEnd, monoNs());
    timing = false;
  }
};

double percentile(std::vector<int64_t>& v, double p) {
  if (v.empty()) return 0;
  const size_t k = static_cast<size_t>(p * static_cast<double>(v.size() - 1));
  std::nth_element(v.begin(), v.begin() + static_cast<long>(k), v.end());
  return static_cast<double>(v[k]) / 1000.0;
}

}  // namespace

nlohmann::json runSignal(const SignalOptions& o) {
  nlohmann::json j = {{"scenario", "signal"}, {"label", o.label}, {"clients", o.clients}, {"ok", false}};
  if (o.clients < 2 || o.clients % 2 != 0) {
    j["error"] = "--clients must be an even number >= 2";
    return j;
  }
  raiseOpenFiles(o.clients + 64);
  Run run(o);
  std::string error;
  int64_t t0 = monoNs();
  if (!run.makeKeys(error) || !run.buildPools(error)) {
    j["error"] = error;
    return j;
  }
  j["prebuild_s"] = static_cast<double>(monoNs() - t0) / 1e9;
  const uint64_t rssBefore = o.serverPid > 0 ? rssKib(o.serverPid) : 0;
  t0 = monoNs();
  if (!run.connectAll(error)) {
    j["error"] = error;
    return j;
  }
  j["connect_s"] = static_cast<double>(monoNs() - t0) / 1e9;
  j["authenticated"] = run.authenticated;
  if (o.serverPid > 0) {
    run.runUntil([] { return false; }, 0.5);  // let the server settle (and drain its queues)
    const uint64_t rssIdle = rssKib(o.serverPid);
    j["rss_before_kib"] = rssBefore;
    j["rss_idle_kib"] = rssIdle;
    j["bytes_per_connection"] =
        (static_cast<double>(rssIdle) - static_cast<double>(rssBefore)) * 1024.0 / static_cast<double>(o.clients);
  }
  if (o.idleOnly) {
    j["ok"] = true;
    return j;
  }
  if (!run.warmUp(error)) {
    j["error"] = error;
    return j;
  }
  const uint64_t sentBefore = run.totalSent();
  const double cpuBefore = o.serverPid > 0 ? cpuSeconds(o.serverPid) : 0;
  run.timed();
  const double cpuTimed = o.serverPid > 0 ? cpuSeconds(o.serverPid) - cpuBefore : 0;
  const uint64_t sentTimed = run.totalSent() - sentBefore;
  // Drain: everything sent must arrive (the hub acknowledged "delivered").
  const bool drained = run.runUntil([&] { return run.totalReceived() >= run.totalSent() || run.closed > 0; }, 5);
  const double seconds = static_cast<double>(run.timedEnd - run.timedStart) / 1e9;
  j["seconds"] = seconds;
  j["sent"] = sentTimed;
  j["received"] = run.timedReceived;
  j["value"] = seconds > 0 ? static_cast<double>(run.timedReceived) / seconds : 0;
  j["unit"] = "envelopes/s";
  j["mode"] = o.rate > 0 ? "rate" : "window";
  if (o.rate > 0) j["rate"] = o.rate; else j["window"] = o.window;
  if (o.serverPid > 0 && run.timedReceived > 0) {
    // On a shared machine the server may get only part of its core: CPU time per envelope (and the
    // rate one whole core would give at that cost) does not depend on that share.
    j["server_cpu_s"] = cpuTimed;
    j["server_cpu_us_per_envelope"] = cpuTimed * 1e6 / static_cast<double>(run.timedReceived);
    j["per_core"] = cpuTimed > 0 ? static_cast<double>(run.timedReceived) / cpuTimed : 0;
  }
  j["p50_us"] = percentile(run.latencies, 0.50);
  j["p99_us"] = percentile(run.latencies, 0.99);
  j["p999_us"] = percentile(run.latencies, 0.999);
  j["invalid"] = run.invalid;
  j["hub_errors"] = run.hubErrors;
  j["lost"] = run.totalSent() - std::min(run.totalSent(), run.totalReceived());
  // Every envelope sent must have arrived, in order, from the right sender, with no error frame.
  const bool ok = run.invalid == 0 && run.hubErrors == 0 && run.closed == 0 && drained && sentTimed > 0;
  j["ok"] = ok;
  if (!ok) j["error"] = run.lastError.empty() ? (drained ? "nothing sent" : "envelopes lost") : run.lastError;
  return j;
}

}  // namespace rdv::bench
