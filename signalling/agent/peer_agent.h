// The peer agent behind `rdv listen`, `rdv connect` and `rdv call` (docs/agent.md). The only place
// besides the daemon that does network I/O, and the only one that uses libnice and GLib (kept out
// of this header). Everything it reports goes to stdout as one JSON object per line.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace rdv::agent {

struct AgentOptions {
  enum class Mode { Listen, Connect, Call } mode = Mode::Connect;
  std::string node;      // the node's HTTP API URL
  // --node given several times (docs/fleet.md, "Clients"): the nodes of a fleet in order of preference;
  // the first that answers is used, and the agent moves its hub session to the next when its node dies.
  // Empty: `node` alone (plus the fleet's other nodes from its GET /v1/nodes, if it has any).
  std::vector<std::string> nodes;
  // The node whose ICE servers (STUN, TURN credentials) to use, if not the signalling node: e.g. another
  // node of the fleet that relays. Empty: the current node.
  std::string iceNode;
  std::string keyFile;   // the peer's secp256k1 key
  std::string ns = "rdv";  // registry namespace (listen registers there; connect looks NODEID up there)
  std::string enr;       // listen: our signed record (enr:...) to register
  std::string to;        // connect/call: NODEID (64 hex), enr:..., or a file holding an ENR
  double timeoutSeconds = 30;  // 0: none (listen)
  unsigned count = 0;          // connect: messages to send after connecting
  unsigned intervalMs = 50;
  uint64_t bitrate = 500'000;  // call: bits per second
  double seconds = 5;          // call: duration
  bool relayOnly = false;
  bool webrtc = false;  // connect: offer a WebRTC data channel (SDP, SCTP) instead of native records
  bool tcp = true;
  // TURN over TLS (turns: servers, through a local bridge, turn_tls_bridge.h): trust this CA/certificate
  // file for the node's certificate; empty: the system store.
  std::string turnCa;
  std::vector<std::string> localAddresses;
  unsigned pathTimeoutMs = 1500;
  unsigned testDropFastAfter = 0;  // TEST ONLY (see SessionOptions)
  bool testBadFingerprint = false;  // TEST ONLY
  bool presence = false;  // opt in to presence events at hub login (docs/signalling.md, "Presence")
};

// Runs until done; returns the process exit code (0 done, 1 failure or timeout, 2 usage).
int runAgent(const AgentOptions& options);

// "500k", "2M", "64000" -> bits per second; 0 when malformed.
uint64_t parseBitrate(const std::string& text);

}  // namespace rdv::agent
