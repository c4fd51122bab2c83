// rdv-apibench --scenario fanout. Phases:
//   1. `subscribers` clients connect, authenticate and subscribe to one topic (blocking clients of
//      rdv's own WebSocket library, polled together);
//   2. one publisher publishes `messages` signed messages, one per `intervalMs`, each carrying its send
//      time; every subscriber's receive time minus that send time is a delivery latency (one clock);
//      deliveries/s = deliveries / (last delivery - first publish);
//   3. presence: a watcher watches an identity that connects with the presence opt-in and closes, for
//      `presenceRounds` rounds; the latency of each online and offline event is measured from the
//      client's welcome / close.
// The node needs limits that let the load through (bench/run.py passes them): signal-topic-rate and
// signal-topic-publish-rate above 1000/intervalMs, and http-max-connections-per-ip above the clients.
#include "bench/api/fanout_load.h"

#include <poll.h>

#include <algorithm>
#include <memory>
#include <unordered_map>
#include <vector>

#include "bench/api/tcp.h"
#include "rendezvous/cli/hub_session.h"
#include "signalling/hub/frames.h"
#include "signalling/hub/frames_cbor.h"
#include "signalling/hub/publication.h"

namespace rdv::bench {
namespace {

namespace sig = rdv::signalling;
using Clock = std::chrono::steady_clock;

identity::PrivateKey benchKey(uint64_t n) {
  Bytes secret(32, 0);
  for (int b = 0; b < 8; ++b) secret[31 - b] = static_cast<uint8_t>(n >> (8 * b));
  secret[0] = 0x6b;  // away from the keys of the other scenarios
  return *identity::PrivateKey::fromBytes(secret);
}

double percentileUs(std::vector<int64_t> v, double p) {
  if (v.empty()) return 0;
  const size_t k = static_cast<size_t>(p * static_cast<double>(v.size() - 1));
  std::nth_element(v.begin(), v.begin() + static_cast<long>(k), v.end());
  return static_cast<double>(v[k]) / 1000.0;
}

}  // namespace

nlohmann::json runFanout(const FanoutOptions& o) {
  nlohmann::json j = {{"scenario", "fanout"}, {"label", o.label}, {"subscribers", o.subscribers}, {"ok", false}};
  raiseOpenFiles(o.subscribers + 64);
  const std::string url = "http://" + o.server.toString();
  const std::string topic = "bench.fanout";
  const auto setupDeadline = Clock::now() + std::chrono::seconds(120);
  std::vector<std::unique_ptr<cli::WebSocketClient>> subs;
  int64_t t0 = monoNs();
  for (size_t i = 0; i < o.subscribers; ++i) {
    auto s = cli::openHubSession(url, benchKey(o.keyOffset + i + 1), std::chrono::seconds(10), setupDeadline);
    if (!s) {
      j["error"] = "subscriber " + std::to_string(i) + ": " + s.error();
      return j;
    }
    s->ws->sendText(sig::encodeFrame(sig::SubscribeFrame{topic}));
    auto answer = s->ws->receive(setupDeadline);
    auto frame = answer ? sig::decodeFrame(*answer) : unexpected(sig::FrameError{});
    if (!frame || !std::holds_alternative<sig::SubscribedFrame>(*frame)) {
      j["error"] = "subscriber " + std::to_string(i) + ": no subscribed frame: " + answer.value_or("");
      return j;
    }
    subs.push_back(std::move(s->ws));
  }
  j["connect_s"] = static_cast<double>(monoNs() - t0) / 1e9;

  const auto pubKey = benchKey(o.keyOffset + o.subscribers + 1);
  auto pub = cli::openHubSession(url, pubKey, std::chrono::seconds(10), setupDeadline);
  if (!pub) {
    j["error"] = "publisher: " + pub.error();
    return j;
  }
  std::vector<pollfd> fds(subs.size());
  for (size_t i = 0; i < subs.size(); ++i) fds[i] = {subs[i]->fd(), POLLIN, 0};
  std::unordered_map<uint64_t, int64_t> sentAt;  // seq -> monoNs
  std::vector<int64_t> latencies;
  latencies.reserve(o.messages * o.subscribers);
  const int64_t interval = static_cast<int64_t>(o.intervalMs * 1e6);
  const int64_t start = monoNs();
  int64_t nextSend = start, lastDelivery = start;
  size_t published = 0, frameBytes = 0;
  const int64_t end = start + interval * static_cast<int64_t>(o.messages) + 10'000'000'000LL;
  while (monoNs() < end && latencies.size() < o.messages * o.subscribers) {
    if (published < o.messages && monoNs() >= nextSend) {
      sig::Publication p{pubKey.nodeId(), topic, published + 1, 1, Bytes(o.body, 'x'), {}};
      const std::string text = sig::encodeFrame(sig::PublishFrame{*sig::signPublication(pubKey, p)});
      frameBytes = text.size();
      sentAt[p.seq] = monoNs();
      pub->ws->sendText(text);
      ++published;
      nextSend += interval;
    }
    const int waitMs = published < o.messages ? std::max<int64_t>(0, (nextSend - monoNs()) / 1'000'000) : 100;
    if (::poll(fds.data(), fds.size(), static_cast<int>(waitMs)) <= 0) continue;
    for (size_t i = 0; i < fds.size(); ++i) {
      if ((fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
      while (auto text = subs[i]->receive(Clock::now())) {
        auto f = sig::decodeFrame(*text);
        auto* m = f ? std::get_if<sig::PublishFrame>(&*f) : nullptr;
        if (m == nullptr) continue;
        auto it = sentAt.find(m->publication.seq);
        if (it == sentAt.end()) continue;
        lastDelivery = monoNs();
        latencies.push_back(lastDelivery - it->second);
      }
    }
  }
  const double seconds = static_cast<double>(lastDelivery - start) / 1e9;
  j["published"] = published;
  j["deliveries"] = latencies.size();
  j["expected_deliveries"] = o.messages * o.subscribers;
  j["deliveries_per_s"] = seconds > 0 ? static_cast<double>(latencies.size()) / seconds : 0.0;
  j["p50_us"] = percentileUs(latencies, 0.50);
  j["p99_us"] = percentileUs(latencies, 0.99);
  j["publish_frame_bytes"] = frameBytes;
  {
    // The same message in the other forms (docs/signalling.md "Compact wire", "Compact publications"):
    // the frame a subscriber of each framing receives, WebSocket header not included.
    sig::Publication p{pubKey.nodeId(), topic, 1'764'900'000'000'000ull, 1'764'900'000'000ull, Bytes(o.body, 'x'), {}};
    j["publish_frame_bytes_json"] = sig::encodeFrame(sig::PublishFrame{*sig::signPublication(pubKey, p)}).size();
    j["publish_frame_bytes_cbor"] = sig::encodeFrameCbor(sig::PublishFrame{*sig::signPublication(pubKey, p)}).size();
    if (auto v2 = sig::signPublicationV2(pubKey, p)) {
      j["publish_frame_bytes_json_v2"] = sig::encodeFrame(sig::PublishFrame{*v2}).size();
      j["publish_frame_bytes_cbor_v2"] = sig::encodeFrameCbor(sig::PublishFrame{*v2}).size();
    }
  }
  j["body_bytes"] = o.body;
  subs.clear();

  // Presence: the watcher sees `peer` come and go.
  const auto watcherKey = benchKey(o.keyOffset + o.subscribers + 2);
  const auto peerKey = benchKey(o.keyOffset + o.subscribers + 3);
  auto watcher = cli::openHubSession(url, watcherKey, std::chrono::seconds(10), setupDeadline);
  if (!watcher) {
    j["error"] = "watcher: " + watcher.error();
    return j;
  }
  watcher->ws->sendText(sig::encodeFrame(sig::WatchFrame{{peerKey.nodeId()}}));
  auto nextEvent = [&](sig::PresenceState want) -> bool {
    const auto deadline = Clock::now() + std::chrono::seconds(10);
    while (auto text = watcher->ws->receive(deadline)) {
      auto f = sig::decodeFrame(*text);
      if (auto* p = f ? std::get_if<sig::PresenceFrame>(&*f) : nullptr; p && p->event.event == want) return true;
    }
    return false;
  };
  if (!nextEvent(sig::PresenceState::Offline)) {
    j["error"] = "no initial presence event";
    return j;
  }
  std::vector<int64_t> online, offline;
  for (size_t r = 0; r < o.presenceRounds; ++r) {
    auto peer = cli::openHubSession(url, peerKey, std::chrono::seconds(10), Clock::now() + std::chrono::seconds(10), true);
    const int64_t welcomed = monoNs();
    if (!peer || !nextEvent(sig::PresenceState::Online)) break;
    online.push_back(monoNs() - welcomed);
    const int64_t closing = monoNs();
    peer->ws->close();
    if (!nextEvent(sig::PresenceState::Offline)) break;
    offline.push_back(monoNs() - closing);
  }
  j["presence_rounds"] = offline.size();
  j["presence_online_p50_us"] = percentileUs(online, 0.50);
  j["presence_online_p99_us"] = percentileUs(online, 0.99);
  j["presence_offline_p50_us"] = percentileUs(offline, 0.50);
  j["presence_offline_p99_us"] = percentileUs(offline, 0.99);
  j["ok"] = latencies.size() == o.messages * o.subscribers && offline.size() == o.presenceRounds;
  return j;
}

}  // namespace rdv::bench
