// rdv send, rdv inbox: the signalling base layer by hand. Both authenticate to the node's hub on
// /v1/signal with the peer key; send seals one envelope to the recipient's public key (from its ENR)
// and waits for the hub's ack; inbox prints what arrives (decrypted, verified, replays dropped) and
// confirms it, so the hub deletes it from the mailbox. --compact speaks the CBOR framing (rdv.cbor.1)
// instead of JSON text, and rdv send --compact seals envelope version 2 (docs/signalling.md "Version 2:
// compact envelopes": the recipient as an 8-byte prefix, sent again with the full id if the hub answers
// unknown-recipient); inbox opens both versions.
#include <CLI/CLI.hpp>

#include <ctime>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "rendezvous/enr/enr_record.h"
#include "rendezvous/identity/private_key.h"
#include "rendezvous/cli/subcommands.h"
#include "rendezvous/cli/hub_session.h"
#include "signalling/envelope/envelope.h"
#include "signalling/envelope/envelope_v2.h"
#include "signalling/envelope/replay_guard.h"
#include "signalling/hub/auth.h"
#include "signalling/hub/frames.h"
#include "signalling/hub/framing.h"

namespace rdv::cli {

namespace {

using Clock = std::chrono::steady_clock;
namespace sig = rdv::signalling;

struct SignalOptions {
  std::string node;
  std::string keyFile;
  std::string to;
  std::string type = "message";
  std::string text;
  unsigned timeoutSeconds = 10;
  unsigned count = 0;
  bool once = false;
  bool compact = false;  // rdv.cbor.1
  bool presence = false;
};

int fail(const std::string& cmd, const std::string& message) {
  std::cerr << "rdv " << cmd << ": " << message << "\n";
  return 1;
}

Result<HubSession, std::string> authenticate(const SignalOptions& o, const identity::PrivateKey& key,
                                             Clock::time_point deadline) {
  return openHubSession(o.node, key, std::chrono::seconds(o.timeoutSeconds), deadline, o.presence, o.compact);
}

// The recipient's public key: from an ENR (text or a file holding one).
Result<identity::PublicKey, std::string> recipientKey(const std::string& to) {
  std::string text = to;
  if (text.rfind("enr:", 0) != 0) {
    std::ifstream f(to);
    if (f) std::getline(f, text);
  }
  if (text.rfind("enr:", 0) != 0)
    return unexpected("--to needs the recipient's ENR (enr:... or a file holding it): a node id alone has no public "
                      "key to encrypt to; find the ENR with rdv discover");
  auto record = enr::EnrRecord::fromText(text);
  if (!record) return unexpected(std::string("--to: not a valid ENR: ") + enr::describe(record.error()));
  return record->publicKey();
}

int send(const SignalOptions& o) {
  auto key = identity::PrivateKey::load(o.keyFile);
  if (!key) return fail("send", o.keyFile + ": " + std::string(identity::describe(key.error())));
  auto recipient = recipientKey(o.to);
  if (!recipient) return fail("send", recipient.error());
  auto type = sig::typeFromName(o.type);
  if (!type) return fail("send", "--type must be offer, answer, candidate, end-of-candidates, bye or message");
  const auto deadline = Clock::now() + std::chrono::seconds(o.timeoutSeconds);
  auto session = authenticate(o, *key, deadline);
  if (!session) return fail("send", session.error());
  auto* ws = &session->ws;
  // A one-shot sender has no durable counter: seq from the clock (docs/signalling.md).
  const uint64_t now = unixMillisNow();
  sig::EnvelopeHeader h{key->nodeId(), recipient->nodeId(), *type, now * 1000, now};
  sig::CryptoRng rng;
  auto envelope = o.compact ? sig::sealV2(*key, *recipient, *type, h.seq, asBytes(o.text), rng, /*shortTo=*/true)
                            : sig::seal(*key, *recipient, h, asBytes(o.text), rng);
  if (!envelope && o.compact)  // the ~2^-128 case v2 cannot express: v1 always can
    envelope = sig::seal(*key, *recipient, h, asBytes(o.text), rng);
  if (!envelope) return fail("send", "cannot seal the envelope");
  session->send(sig::EnvelopeFrame{*envelope});
  while (true) {
    auto text = (*ws)->receive(deadline);
    if (!text) return fail("send", "no acknowledgement from the hub before the deadline");
    auto frame = session->decode(*text);
    if (!frame) continue;
    if (auto* a = std::get_if<sig::AckFrame>(&*frame); a && a->seq == h.seq) {
      std::cout << nlohmann::json{{"to", a->to.hex()}, {"seq", a->seq}, {"status", sig::ackStatusName(a->status)}}.dump()
                << std::endl;
      (*ws)->close();
      return 0;
    }
    if (auto* e = std::get_if<sig::ErrorFrame>(&*frame)) {
      // A short recipient the hub cannot resolve (never seen there): the same envelope with the full id.
      if (e->code == "unknown-recipient" && e->seq == h.seq && envelope->shortTo) {
        envelope = sig::sealV2(*key, *recipient, *type, h.seq, asBytes(o.text), rng, /*shortTo=*/false);
        if (!envelope) return fail("send", "cannot seal the envelope");
        session->send(sig::EnvelopeFrame{*envelope});
        continue;
      }
      return fail("send", "refused: " + e->code + ": " + e->message);
    }
  }
}

int inbox(const SignalOptions& o) {
  auto key = identity::PrivateKey::load(o.keyFile);
  if (!key) return fail("inbox", o.keyFile + ": " + std::string(identity::describe(key.error())));
  const auto deadline = Clock::now() + std::chrono::seconds(o.timeoutSeconds);
  auto session = authenticate(o, *key, deadline);
  if (!session) return fail("inbox", session.error());
  auto* ws = &session->ws;
  std::cerr << "rdv inbox: listening as " << key->nodeId().hex() << std::endl;  // scripts wait for this line
  sig::ReplayGuard guard;
  unsigned printed = 0;
  // --once: the welcome's `stored` says how many envelope frames the mailbox delivery holds
  // (docs/signalling.md); every one counts, printed or dropped, and then we are done.
  uint64_t storedLeft = session->stored;
  while ((o.count == 0 || printed < o.count) && !(o.once && storedLeft == 0)) {
    auto text = (*ws)->receive(deadline);
    if (!text) {
      if (o.once) return fail("inbox", std::to_string(storedLeft) + " of the " + std::to_string(session->stored) +
                                           " stored messages did not arrive before the deadline");
      break;  // deadline: done listening
    }
    auto frame = session->decode(*text);
    if (!frame) continue;
    auto* ef = std::get_if<sig::EnvelopeFrame>(&*frame);
    if (!ef) continue;
    if (storedLeft > 0) --storedLeft;
    auto verified = sig::verify(ef->envelope);
    if (!verified) continue;  // the hub verified too; a bad one here is dropped
    if (!guard.admit(*verified)) continue;  // a repeat from the mailbox
    auto body = sig::open(*verified, *key);
    if (!body) continue;
    const auto& h = verified->header();
    std::cout << nlohmann::json{{"from", h.from.hex()},     {"type", sig::typeName(h.type)}, {"seq", h.seq},
                                {"ts", h.timestampMs},       {"body", std::string(asString(*body))}}
                     .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)
              << std::endl;
    session->send(sig::ReceivedFrame{h.from, h.seq});
    ++printed;
  }
  (*ws)->close();
  if (o.count != 0 && printed < o.count)
    return fail("inbox", "received " + std::to_string(printed) + " of " + std::to_string(o.count) + " before the deadline");
  return 0;
}

}  // namespace

void addSignalCommands(CLI::App& app) {
  auto o = std::make_shared<SignalOptions>();
  auto* s = app.add_subcommand("send", "send one signed, end-to-end-encrypted message through a node's signalling hub "
                                       "(delivered now, or stored until the recipient connects)");
  s->add_option("--node", o->node, "the node's HTTP API, e.g. http://127.0.0.1:8080")->required();
  s->add_option("--key", o->keyFile, "the sender's key file (rdv key new)")->required();
  s->add_option("--to", o->to, "the recipient's ENR (enr:...) or a file holding it")->required();
  s->add_option("--type", o->type, "offer, answer, candidate, end-of-candidates, bye or message (default)");
  s->add_option("--timeout", o->timeoutSeconds, "seconds to wait for the hub's acknowledgement (default 10)");
  s->add_flag("--compact", o->compact,
              "use the compact CBOR framing (WebSocket subprotocol rdv.cbor.1) instead of JSON, and envelope "
              "version 2 (docs/signalling.md)");
  s->add_option("text", o->text, "the message")->required();
  s->callback([o] { exitCode() = send(*o); });

  auto i = app.add_subcommand("inbox", "receive messages from a node's signalling hub: one JSON line each "
                                       "({from,type,seq,ts,body}), stored ones first");
  i->add_option("--node", o->node, "the node's HTTP API, e.g. http://127.0.0.1:8080")->required();
  i->add_option("--key", o->keyFile, "the recipient's key file")->required();
  i->add_option("--count", o->count, "exit after this many messages (non-zero exit if fewer arrive in time)");
  i->add_option("--timeout", o->timeoutSeconds, "seconds to listen (default 10)");
  i->add_flag("--once", o->once,
              "print what the mailbox holds for the key (the welcome's stored count) and exit 0 instead of "
              "listening; nothing waiting: print nothing, exit 0 (--timeout bounds the wait for them)");
  i->add_flag("--compact", o->compact, "use the compact CBOR framing (WebSocket subprotocol rdv.cbor.1) instead of JSON");
  i->add_flag("--presence", o->presence,
              "opt in to presence: watchers (rdv presence) see this key online while inbox runs (docs/signalling.md)");
  i->callback([o] { exitCode() = inbox(*o); });
}

}  // namespace rdv::cli
