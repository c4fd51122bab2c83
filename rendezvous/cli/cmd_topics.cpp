// rdv publish, rdv subscribe, rdv presence: topics and presence on a node's signalling hub
// (docs/signalling.md, "Topics" and "Presence"). Topic messages are signed, not encrypted: every
// subscriber (and the node) reads them.
#include <CLI/CLI.hpp>

#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "rendezvous/cli/hub_session.h"
#include "rendezvous/client/http_client.h"
#include "rendezvous/identity/eth_address.h"
#include "rendezvous/cli/subcommands.h"
#include "rendezvous/enr/enr_record.h"
#include "rendezvous/identity/private_key.h"
#include "signalling/hub/frames.h"
#include "signalling/hub/publication.h"

namespace rdv::cli {

namespace {

using Clock = std::chrono::steady_clock;
namespace sig = rdv::signalling;

struct TopicOptions {
  std::string node;
  std::string keyFile;
  std::string topic;
  std::string text;
  std::vector<std::string> watch;
  std::vector<std::string> namespaces;  // rdv presence --namespace
  unsigned timeoutSeconds = 0;  // publish: 10 when 0; subscribe/presence: 0 listens until killed
  unsigned count = 0;
  bool presence = false;
  bool compact = false;  // rdv.cbor.1
};

int fail(const std::string& cmd, const std::string& message) {
  std::cerr << "rdv " << cmd << ": " << message << "\n";
  return 1;
}

Clock::time_point deadlineAfter(unsigned seconds) {
  return seconds == 0 ? Clock::time_point::max() : Clock::now() + std::chrono::seconds(seconds);
}

std::string jsonLine(const nlohmann::json& j) { return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace); }

int publish(const TopicOptions& o) {
  auto key = identity::PrivateKey::load(o.keyFile);
  if (!key) return fail("publish", o.keyFile + ": " + std::string(identity::describe(key.error())));
  if (!sig::validTopic(o.topic)) return fail("publish", "--topic must be 1 to 255 bytes");
  const unsigned timeout = o.timeoutSeconds == 0 ? 10 : o.timeoutSeconds;
  const auto deadline = deadlineAfter(timeout);
  auto session = openHubSession(o.node, *key, std::chrono::seconds(timeout), deadline, false, o.compact);
  if (!session) return fail("publish", session.error());
  const uint64_t now = unixMillisNow();
  sig::Publication p{key->nodeId(), o.topic, now * 1000, now, Bytes(o.text.begin(), o.text.end()), {}};
  // --compact: the compact publication (v2, docs/signalling.md); v1 where v2 cannot express the signature.
  auto signedPub = o.compact ? sig::signPublicationV2(*key, p) : sig::signPublication(*key, p);
  if (!signedPub && o.compact) signedPub = sig::signPublication(*key, p);
  if (!signedPub) return fail("publish", "cannot sign the message");
  session->send(sig::PublishFrame{*signedPub});
  while (true) {
    auto text = session->ws->receive(deadline);
    if (!text) return fail("publish", "no answer from the hub before the deadline (" + session->ws->closeReason() + ")");
    auto frame = session->decode(*text);
    if (!frame) continue;
    if (auto* a = std::get_if<sig::PublishedFrame>(&*frame); a && a->seq == p.seq) {
      std::cout << jsonLine({{"topic", a->topic}, {"seq", a->seq}, {"subscribers", a->subscribers}}) << std::endl;
      session->ws->close();
      return 0;
    }
    if (auto* e = std::get_if<sig::ErrorFrame>(&*frame)) return fail("publish", "refused: " + e->code + ": " + e->message);
  }
}

int subscribe(const TopicOptions& o) {
  auto key = identity::PrivateKey::load(o.keyFile);
  if (!key) return fail("subscribe", o.keyFile + ": " + std::string(identity::describe(key.error())));
  if (!sig::validTopic(o.topic)) return fail("subscribe", "--topic must be 1 to 255 bytes");
  const auto deadline = deadlineAfter(o.timeoutSeconds);
  auto session = openHubSession(o.node, *key, std::chrono::seconds(10), deadline, o.presence, o.compact);
  if (!session) return fail("subscribe", session.error());
  auto& ws = session->ws;
  session->send(sig::SubscribeFrame{o.topic});
  unsigned printed = 0;
  while (o.count == 0 || printed < o.count) {
    auto text = ws->receive(deadline);
    if (!text) {
      if (ws->closed()) return fail("subscribe", "the hub closed the connection (" + ws->closeReason() + ")");
      break;  // the deadline: done listening
    }
    auto frame = session->decode(*text);
    if (!frame) continue;
    if (auto* s = std::get_if<sig::SubscribedFrame>(&*frame)) {
      // Scripts wait for this line: from here on nothing published is missed.
      std::cerr << "rdv subscribe: subscribed to " << s->topic << " (" << s->history << " retained)" << std::endl;
    } else if (auto* e = std::get_if<sig::ErrorFrame>(&*frame)) {
      return fail("subscribe", "refused: " + e->code + ": " + e->message);
    } else if (auto* m = std::get_if<sig::PublishFrame>(&*frame)) {
      auto& p = m->publication;
      // The hub checked it; so do we (a v2 publication's publisher is recovered from its signature).
      if (p.version != 1 && !sig::completePublicationV2(p)) continue;
      if (p.topic != o.topic || !sig::verifyPublication(p)) continue;
      std::cout << jsonLine({{"from", p.from.hex()},
                             {"topic", p.topic},
                             {"seq", p.seq},
                             {"ts", p.timestampMs},
                             {"body", std::string(p.body.begin(), p.body.end())}})
                << std::endl;
      ++printed;
    }
  }
  ws->close();
  if (o.count != 0 && printed < o.count)
    return fail("subscribe", "received " + std::to_string(printed) + " of " + std::to_string(o.count) + " before the deadline");
  return 0;
}

// The node id behind an Ethereum address, from the node's registry (GET /v1/registrations?address=): an
// address is a hash of the key, so only a record registered under it names the identity.
Result<identity::NodeId, std::string> idOfAddress(const std::string& node, const std::string& address) {
  auto parsed = identity::EthAddress::parse(address);
  if (!parsed)
    return unexpected("--watch " + address + ": not an address (0x and 40 hex digits; mixed case must carry a valid "
                      "EIP-55 checksum)");
  auto url = parseHttpUrl(node);
  if (!url) return unexpected(url.error());
  HttpCall call{"GET", "/v1/registrations?address=" + parsed->checksummed(), ""};
  call.timeout = std::chrono::seconds(10);
  auto reply = httpRequest(*url, call);
  if (!reply) return unexpected("--watch " + address + ": " + reply.error());
  auto j = nlohmann::json::parse(reply->body, nullptr, false);
  const auto* list = j.is_object() && j.contains("registrations") ? &j["registrations"] : nullptr;
  if (reply->status != 200 || list == nullptr || !list->is_array() || list->empty() || !(*list)[0].is_object())
    return unexpected("--watch " + address + ": the node has no record registered under this address");
  auto id = identity::NodeId::fromHex((*list)[0].value("node_id", ""));
  if (!id) return unexpected("--watch " + address + ": the node's answer names no node id");
  return *id;
}

// A node id from 64 hex digits, an ENR (enr:...) or a file holding one, or a 0x address (through the
// node's registry).
Result<identity::NodeId, std::string> watchedId(const std::string& node, const std::string& what) {
  if (identity::EthAddress::looksLikeAddress(what)) return idOfAddress(node, what);
  Bytes raw;
  if (what.size() == 64 && fromHex(what, raw) && raw.size() == 32) {
    identity::NodeId id;
    std::copy(raw.begin(), raw.end(), id.bytes.begin());
    return id;
  }
  std::string text = what;
  if (text.rfind("enr:", 0) != 0) {
    std::ifstream f(what);
    if (f) std::getline(f, text);
  }
  if (text.rfind("enr:", 0) != 0)
    return unexpected("--watch " + what + ": not a node id (64 hex digits), an ENR or a 0x address");
  auto record = enr::EnrRecord::fromText(text);
  if (!record) return unexpected("--watch " + what + ": not a valid ENR: " + enr::describe(record.error()));
  return record->publicKey().nodeId();
}

int presence(const TopicOptions& o) {
  auto key = identity::PrivateKey::load(o.keyFile);
  if (!key) return fail("presence", o.keyFile + ": " + std::string(identity::describe(key.error())));
  if (o.watch.empty() && o.namespaces.empty()) return fail("presence", "give --watch, --namespace, or both");
  for (const auto& ns : o.namespaces)
    if (!sig::validTopic(ns)) return fail("presence", "--namespace must be 1 to 255 bytes");
  sig::WatchFrame watch;
  for (const auto& w : o.watch) {
    auto id = watchedId(o.node, w);
    if (!id) return fail("presence", id.error());
    watch.nodes.push_back(*id);
  }
  const auto deadline = deadlineAfter(o.timeoutSeconds);
  auto session = openHubSession(o.node, *key, std::chrono::seconds(10), deadline, o.presence, o.compact);
  if (!session) return fail("presence", session.error());
  auto& ws = session->ws;
  if (!watch.nodes.empty()) session->send(watch);
  for (const auto& ns : o.namespaces) session->send(sig::WatchFrame{{}, ns});  // one namespace per frame
  std::cerr << "rdv presence: watching " << watch.nodes.size() << " identities and " << o.namespaces.size()
            << " namespaces" << std::endl;
  unsigned printed = 0;
  while (o.count == 0 || printed < o.count) {
    auto text = ws->receive(deadline);
    if (!text) {
      if (ws->closed()) return fail("presence", "the hub closed the connection (" + ws->closeReason() + ")");
      break;
    }
    auto frame = session->decode(*text);
    if (!frame) continue;
    if (auto* e = std::get_if<sig::ErrorFrame>(&*frame)) return fail("presence", "refused: " + e->code + ": " + e->message);
    auto* p = std::get_if<sig::PresenceFrame>(&*frame);
    if (p == nullptr || !sig::verifyPresence(session->hubId, p->event)) continue;  // signed by the node
    const bool online = p->event.event == sig::PresenceState::Online;
    std::cout << jsonLine({{"event", online ? "online" : "offline"},
                           {"node_id", p->event.node.hex()},
                           {"last_seen", p->event.lastSeenMs}})
              << std::endl;
    ++printed;
  }
  ws->close();
  if (o.count != 0 && printed < o.count)
    return fail("presence", "received " + std::to_string(printed) + " of " + std::to_string(o.count) + " events before the deadline");
  return 0;
}

void nodeAndKey(CLI::App& cmd, TopicOptions& o) {
  cmd.add_option("--node", o.node, "the node's HTTP API, e.g. http://127.0.0.1:8080")->required();
  cmd.add_option("--key", o.keyFile, "this peer's key file (rdv key new)")->required();
  cmd.add_flag("--compact", o.compact, "use the compact CBOR framing (WebSocket subprotocol rdv.cbor.1) instead of JSON");
}

}  // namespace

void addTopicCommands(CLI::App& app) {
  auto o = std::make_shared<TopicOptions>();
  auto* p = app.add_subcommand("publish", "publish one signed (not encrypted) message to a topic on a node's hub; "
                                          "prints {topic,seq,subscribers}, exits 1 when refused (rate, membership)");
  nodeAndKey(*p, *o);
  p->add_option("--topic", o->topic, "the topic (1-255 bytes; \"<owner node id>/name\" is restricted)")->required();
  p->add_option("--timeout", o->timeoutSeconds, "seconds to wait for the hub's answer (default 10)");
  p->add_option("text", o->text, "the message")->required();
  p->callback([o] { exitCode() = publish(*o); });

  auto* s = app.add_subcommand("subscribe", "receive a topic's messages: one JSON line each ({from,topic,seq,ts,body}), "
                                            "the retained ones first");
  nodeAndKey(*s, *o);
  s->add_option("--topic", o->topic, "the topic")->required();
  s->add_option("--count", o->count, "exit after this many messages (non-zero exit if fewer arrive in time)");
  s->add_option("--timeout", o->timeoutSeconds, "seconds to listen (default: until killed)");
  s->add_flag("--presence", o->presence, "opt in to presence: watchers see this key online while it runs");
  s->callback([o] { exitCode() = subscribe(*o); });

  auto* w = app.add_subcommand("presence", "watch identities: one JSON line per event ({event,node_id,last_seen}), "
                                           "their state at once, then every change; signed by the node");
  nodeAndKey(*w, *o);
  w->add_option("--watch", o->watch,
                "a node id (64 hex digits), an ENR or a file holding one, or an Ethereum address (0x..., looked up "
                "in the node's registry) (repeatable)");
  w->add_option("--namespace", o->namespaces,
                "also watch the opted-in identities registered under this namespace: those online now, then "
                "every change (repeatable)");
  w->add_option("--count", o->count, "exit after this many events (non-zero exit if fewer arrive in time)");
  w->add_option("--timeout", o->timeoutSeconds, "seconds to watch (default: until killed)");
  w->add_flag("--presence", o->presence, "opt this key in to presence too");
  w->callback([o] { exitCode() = presence(*o); });
}

}  // namespace rdv::cli
