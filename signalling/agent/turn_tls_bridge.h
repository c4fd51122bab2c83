// TURN over TLS for libnice: libnice 0.1.21 in RFC 5245 mode opens a NICE_RELAY_TYPE_TURN_TLS relay as
// plain TCP (it speaks TLS only in its Google/OC2007 modes), so a network that lets only TLS out could not
// reach the relay. The bridge is a TCP listener on loopback that the agent gives libnice as a TURN/TCP
// server; each connection libnice opens is carried over TLS to the node's turns: endpoint, whose
// certificate is verified (the system store, or a CA/certificate file; the name or IP address checked).
// Bytes pass through unchanged: TURN's framing (RFC 8656 §6.2, ChannelData padding on streams) is the
// same over TCP and TLS.
//
// One thread accepts; each connection has a thread that pumps both directions (a handful per agent).
// The destructor stops accepting, closes every connection and joins the threads.
#pragma once

#include <memory>
#include <string>

#include "rendezvous/base/address.h"
#include "rendezvous/base/result.h"

namespace rdv::agent {

struct TlsTarget {
  Endpoint server;         // the node's turns: endpoint
  std::string caFile;      // trust this CA/certificate file; empty: the system store
  std::string serverName;  // SNI and the name checked; empty: the server's IP address is checked
};

class TurnTlsBridge {
 public:
  // Listens on `listenIp` (a loopback address) on a port the kernel picks.
  static Result<std::unique_ptr<TurnTlsBridge>, std::string> start(TlsTarget target,
                                                                   const std::string& listenIp = "127.0.0.1");
  ~TurnTlsBridge();
  TurnTlsBridge(const TurnTlsBridge&) = delete;
  TurnTlsBridge& operator=(const TurnTlsBridge&) = delete;

  Endpoint local() const;  // what libnice is given as the TURN/TCP server
  // Connections whose TLS handshake or certificate check failed (they are closed at once).
  uint64_t refused() const;

  struct Impl;

 private:
  explicit TurnTlsBridge(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace rdv::agent
