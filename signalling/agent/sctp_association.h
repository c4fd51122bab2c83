// One SCTP association over DTLS (RFC 8261), on Debian's libusrsctp in AF_CONN mode: the caller
// feeds in the DTLS plaintext it received (one SCTP packet per DTLS record) and takes out the SCTP
// packets to encrypt and send; this class never touches a socket. libusrsctp runs without threads
// (usrsctp_init_nothreads): its timers advance only when advanceTimers() is called, from the agent's
// tick, so everything happens on the agent's one thread.
//
// Both ends connect to port 5000 (a=sctp-port, RFC 8841) at once, as WebRTC does; SCTP merges the
// two INITs into one association (RFC 9260 §5.2.4).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "rendezvous/base/bytes.h"
#include "rendezvous/base/result.h"

struct socket;

namespace rdv::agent {

class SctpAssociation {
 public:
  struct Message {
    uint16_t stream = 0;
    uint32_t ppid = 0;
    Bytes data;
  };
  static constexpr uint16_t kWebRtcPort = 5000;
  // Largest message we accept (announced as a=max-message-size); a longer one is dropped.
  static constexpr size_t kMaxMessage = 256 * 1024;
  // Bytes of unfinished messages held over all streams at once (beyond it, pieces are dropped and
  // their messages with them).
  static constexpr size_t kMaxPartialBytes = 1024 * 1024;

  static Result<std::unique_ptr<SctpAssociation>, std::string> create(uint16_t localPort = kWebRtcPort);
  ~SctpAssociation();
  SctpAssociation(const SctpAssociation&) = delete;
  SctpAssociation& operator=(const SctpAssociation&) = delete;

  // Sends our INIT (call once the DTLS handshake completed).
  void connect(uint16_t remotePort = kWebRtcPort);
  // One SCTP packet from the peer (a decrypted DTLS record).
  void handlePacket(ByteSpan packet);
  // One message on a stream; false when it could not be queued (not established, buffer full).
  bool send(uint16_t stream, uint32_t ppid, ByteSpan data, bool ordered = true);
  // Drives libusrsctp's (process-wide) timers up to now: retransmissions, heartbeats, SACK delays.
  static void advanceTimers(std::chrono::steady_clock::time_point now);

  std::vector<Bytes> takeOutgoing();      // SCTP packets for the DTLS layer, in order
  std::vector<Message> takeReceived();    // complete messages, in arrival order
  std::vector<uint16_t> takeResetStreams();  // streams the peer reset (its channel closed)

  bool established() const { return established_; }
  bool closed() const { return closed_; }
  const std::string& closeReason() const { return closeReason_; }
  // Smoothed round-trip time of the association's path, once known.
  std::optional<double> srttMs() const;

  // libusrsctp's callbacks (free functions in the .cpp forward here).
  void onOutput(const void* buffer, size_t length);
  void onReceive(const void* data, size_t length, uint16_t stream, uint32_t ppid, int flags);

 private:
  SctpAssociation() = default;
  void onNotification(const void* data, size_t length);

  struct socket* socket_ = nullptr;
  uint16_t localPort_ = kWebRtcPort;
  bool established_ = false;
  bool closed_ = false;
  std::string closeReason_;
  std::vector<Bytes> outgoing_;
  std::vector<Message> received_;
  std::vector<uint16_t> resetStreams_;
  std::map<uint16_t, Message> partial_;  // messages delivered in pieces (no MSG_EOR yet), per stream
  size_t partialBytes_ = 0;
};

}  // namespace rdv::agent
