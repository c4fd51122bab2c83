// A small blocking TURN client over UDP for integration tests that need to hold allocations, read error
// codes (486/508) or count relayed bytes precisely: built on stun/'s codec (the interop tests use coturn's
// turnutils_uclient; this one is for what uclient cannot express). One socket, one 5-tuple.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "rendezvous/base/address.h"
#include "rendezvous/base/bytes.h"
#include "stun/message.h"
#include "tests/integration/rest_credentials.h"  // restUsername, restPassword

namespace rdv::test {

// A UDP socket on 127.0.0.1:0 (or another local address, host byte order) with helpers; closed on
// destruction.
class UdpSocket {
 public:
  explicit UdpSocket(uint32_t localHostOrder = 0x7F000001);
  ~UdpSocket();
  UdpSocket(const UdpSocket&) = delete;
  UdpSocket& operator=(const UdpSocket&) = delete;
  bool ok() const { return fd_ >= 0; }
  uint16_t port() const;
  Endpoint local() const;
  bool sendTo(const Endpoint& to, ByteSpan bytes);
  // One datagram, or nullopt after `timeout`.
  std::optional<Bytes> receive(std::chrono::milliseconds timeout, Endpoint* from = nullptr);
  int fd() const { return fd_; }

 private:
  int fd_ = -1;
};


struct TurnAnswer {
  bool ok = false;       // a success response
  uint16_t error = 0;    // the error code of an error response; 0 on success or timeout
  bool timedOut = false;
  std::optional<stun::MessageView> message;  // valid while `raw` lives
  Bytes raw;
};

class TurnTestClient {
 public:
  // `localHostOrder`: the client's own loopback address (abuse tests give honest clients their own 127.x).
  TurnTestClient(Endpoint server, std::string username, std::string password, uint32_t localHostOrder = 0x7F000001);
  // Allocate (the 401 dance included). Returns the final answer; on success relayed() is set.
  TurnAnswer allocate(std::optional<uint32_t> lifetime = std::nullopt);
  TurnAnswer refresh(uint32_t lifetime);
  TurnAnswer permit(const Endpoint& peer);
  TurnAnswer bindChannel(uint16_t channel, const Endpoint& peer);
  // Relayed data: ChannelData on a bound channel, or a Send indication.
  bool sendChannelData(uint16_t channel, ByteSpan data);
  bool sendIndication(const Endpoint& peer, ByteSpan data);
  // The next relayed payload (ChannelData body or Data indication DATA); nullopt after `timeout`.
  std::optional<Bytes> receiveData(std::chrono::milliseconds timeout);

  // Reuse another client's REALM and NONCE (nonces are not bound to a port), skipping the 401 round
  // trip: many clients from one address would otherwise meet the node's per-source 401 rate limit.
  void learnFrom(const TurnTestClient& other);
  const std::optional<Endpoint>& relayed() const { return relayed_; }
  UdpSocket& socket() { return socket_; }

 private:
  TurnAnswer request(stun::Method method, const std::function<void(stun::MessageBuilder&)>& attrs);
  Bytes build(stun::Method method, const std::function<void(stun::MessageBuilder&)>& attrs, bool auth);

  Endpoint server_;
  std::string username_;
  std::string password_;
  std::string realm_;
  std::string nonce_;
  Bytes key_;
  uint64_t counter_ = 0;
  UdpSocket socket_;
  std::optional<Endpoint> relayed_;
};

}  // namespace rdv::test
