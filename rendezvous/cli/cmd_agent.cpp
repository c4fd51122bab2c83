// rdv listen, rdv connect, rdv call: the peer agent (signalling/agent, docs/agent.md). Output is one
// JSON object per line on stdout; exit 0 when done, 1 on failure or timeout, 2 on a usage error.
#include <CLI/CLI.hpp>

#include <ctime>
#include <iostream>

#include "signalling/agent/peer_agent.h"
#include "rendezvous/cli/subcommands.h"
#include "rendezvous/cli/record_options.h"

namespace rdv::cli {

namespace {

struct AgentCliOptions {
  agent::AgentOptions agent;
  std::string bitrate = "500k";
  bool noTcp = false;
};

void addCommonOptions(CLI::App& cmd, AgentCliOptions& o) {
  cmd.add_option("--node", o.agent.nodes,
                 "the node's HTTP API, e.g. http://127.0.0.1:8080; repeatable: nodes of a fleet in order of "
                 "preference, the first that answers is used and the hub session moves to the next when it dies "
                 "(a fleet's other nodes are also learnt from GET /v1/nodes)")
      ->required();
  cmd.add_option("--key", o.agent.keyFile, "this peer's key file (rdv key new)")->required();
  cmd.add_option("--ice-node", o.agent.iceNode,
                 "take the ICE servers (STUN, TURN credentials) from this node's HTTP API instead of --node's, e.g. "
                 "another node of the fleet that relays");
  cmd.add_option("--namespace", o.agent.ns, "registry namespace (default rdv)");
  cmd.add_flag("--relay-only", o.agent.relayOnly, "ICE transport policy relay: only TURN-relayed candidates");
  cmd.add_flag("--no-tcp", o.noTcp, "UDP only: no ICE-TCP candidates and no TURN over TCP or TLS");
  cmd.add_option("--turn-ca", o.agent.turnCa,
                 "TURN over TLS (the node's turns: servers, through a local bridge): trust this CA/certificate "
                 "file (default: the system store)")
      ->check(CLI::ExistingFile);
  cmd.add_option("--local-address", o.agent.localAddresses,
                 "gather host candidates only on this address (repeatable; default: every interface but loopback)");
  cmd.add_option("--path-timeout-ms", o.agent.pathTimeoutMs,
                 "declare the fast path down after this long without an answer (default 1500)");
  // TEST ONLY hooks (tests/signalling/agent_test.cpp): hidden from --help.
  cmd.add_option("--test-drop-fast-after", o.agent.testDropFastAfter,
                 "TEST ONLY: after N records over the fast path, drop incoming DTLS for this ICE generation")
      ->group("");
  cmd.add_flag("--test-bad-fingerprint", o.agent.testBadFingerprint,
               "TEST ONLY: announce a DTLS fingerprint that is not ours")
      ->group("");
}

int usage(const std::string& cmd, const std::string& message) {
  std::cout << "{\"event\":\"error\",\"error\":\"usage\",\"message\":\"" << cmd << ": " << message << "\"}" << std::endl;
  return 2;
}

}  // namespace

void addAgentCommands(CLI::App& app) {
  auto l = std::make_shared<AgentCliOptions>();
  l->agent.mode = agent::AgentOptions::Mode::Listen;
  l->agent.timeoutSeconds = 0;
  auto* listen = app.add_subcommand("listen", "register this peer's record and accept connections (ICE + DTLS); echoes "
                                              "application messages and reports calls; JSON event lines");
  addCommonOptions(*listen, *l);
  listen->add_option("--timeout", l->agent.timeoutSeconds, "stop after this many seconds (default: run until killed)");
  listen->add_flag("--presence", l->agent.presence,
                   "opt in to presence: watchers (rdv presence) see this key online while it listens");
  listen->callback([l] {
    l->agent.tcp = !l->noTcp;
    auto key = identity::PrivateKey::load(l->agent.keyFile);
    if (!key) {
      exitCode() = usage("listen", "--key " + l->agent.keyFile + ": " + std::string(identity::describe(key.error())));
      return;
    }
    RecordOptions record;
    record.seq = static_cast<uint64_t>(std::time(nullptr));  // a restarted listener replaces its record
    auto enr = buildRecord(record, *key);
    if (!enr) {
      exitCode() = usage("listen", enr.error());
      return;
    }
    l->agent.enr = enr->toText();
    exitCode() = agent::runAgent(l->agent);
  });

  auto c = std::make_shared<AgentCliOptions>();
  c->agent.mode = agent::AgentOptions::Mode::Connect;
  auto* connect = app.add_subcommand("connect", "connect to a listening peer (ICE + DTLS), print the selected path, "
                                                "exchange --count echoed messages");
  addCommonOptions(*connect, *c);
  connect->add_option("--to", c->agent.to, "the peer: node id (looked up in --namespace), enr:..., or a file with an ENR")
      ->required();
  connect->add_option("--count", c->agent.count, "messages to send after connecting, each echoed back (default 0)");
  connect->add_option("--interval-ms", c->agent.intervalMs, "between messages (default 50)");
  connect->add_option("--timeout", c->agent.timeoutSeconds, "give up after this many seconds (default 30)");
  connect->add_flag("--webrtc", c->agent.webrtc,
                    "offer a WebRTC data channel (SDP offer, SCTP over DTLS) as a browser does, instead of the "
                    "native records; the peer may be a browser or rdv listen");
  connect->callback([c] {
    c->agent.tcp = !c->noTcp;
    exitCode() = agent::runAgent(c->agent);
  });

  auto k = std::make_shared<AgentCliOptions>();
  k->agent.mode = agent::AgentOptions::Mode::Call;
  k->agent.timeoutSeconds = 0;
  auto* call = app.add_subcommand("call", "connect and send an SRTP media-like stream at --bitrate for --seconds; "
                                          "prints the receiver's loss/jitter/bitrate report");
  addCommonOptions(*call, *k);
  call->add_option("--to", k->agent.to, "the peer: node id, enr:..., or a file with an ENR")->required();
  call->add_option("--bitrate", k->bitrate, "e.g. 500k, 2M, 64000 (bits per second; default 500k)");
  call->add_option("--seconds", k->agent.seconds, "stream duration (default 5)");
  call->add_option("--timeout", k->agent.timeoutSeconds, "give up after this many seconds (default: --seconds + 20)");
  call->callback([k] {
    k->agent.tcp = !k->noTcp;
    k->agent.bitrate = agent::parseBitrate(k->bitrate);
    if (k->agent.bitrate == 0 || k->agent.bitrate > 100'000'000) {
      exitCode() = usage("call", "--bitrate must be like 500k, 2M or 64000 (at most 100M)");
      return;
    }
    if (k->agent.seconds <= 0 || k->agent.seconds > 3600) {
      exitCode() = usage("call", "--seconds must be between 0 and 3600");
      return;
    }
    if (k->agent.timeoutSeconds <= 0) k->agent.timeoutSeconds = k->agent.seconds + 20;
    exitCode() = agent::runAgent(k->agent);
  });
}

}  // namespace rdv::cli
