// WebRTC data channels (RFC 8831) over one SCTP association: the DCEP open handshake (RFC 8832) and
// the PPIDs of string and binary messages. Sits between the DTLS layer (input: DTLS plaintext;
// output: plaintext to encrypt) and the application (events: a channel opened, a message, a channel
// or the association closed). No sockets, no clock of its own.
//
// Stream ids follow RFC 8832 §6: the DTLS client opens even streams, the DTLS server odd ones, so the
// two ends never pick the same one.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rendezvous/base/bytes.h"
#include "rendezvous/base/result.h"
#include "signalling/agent/sctp_association.h"

namespace rdv::agent {

class DataChannels {
 public:
  enum class Role { DtlsClient, DtlsServer };
  struct Event {
    enum class Kind { Opened, Message, Closed } kind = Kind::Message;
    uint16_t stream = 0;
    std::string label;  // Opened
    Bytes data;         // Message
    bool binary = false;
  };
  // Most channels one association keeps (more OPENs are refused by resetting their stream).
  static constexpr size_t kMaxChannels = 64;

  static Result<std::unique_ptr<DataChannels>, std::string> create(Role role);

  // Starts SCTP (call once DTLS is up).
  void start();
  // A decrypted DTLS record from the peer.
  void handleRecord(ByteSpan record);
  // Timers (process-wide, see SctpAssociation::advanceTimers).
  void tick(std::chrono::steady_clock::time_point now);

  // Opens a reliable, ordered channel: the DATA_CHANNEL_OPEN goes out now if SCTP is up, else
  // when it comes up. Messages may follow at once (RFC 8832 §6: ordered after the OPEN).
  std::optional<uint16_t> open(const std::string& label);
  bool sendText(uint16_t stream, std::string_view text);
  bool sendBinary(uint16_t stream, ByteSpan data);

  std::vector<Bytes> takeOutgoing();  // SCTP packets to encrypt, in order
  std::vector<Event> takeEvents();

  bool established() const { return sctp_->established(); }
  bool closed() const { return sctp_->closed(); }
  const std::string& closeReason() const { return sctp_->closeReason(); }
  std::optional<double> srttMs() const { return sctp_->srttMs(); }
  uint64_t dropped() const { return dropped_; }  // malformed DCEP, messages on unknown streams

 private:
  struct Channel {
    std::string label;
    bool ordered = true;
    bool openSent = false;  // ours: the OPEN went out (it waits for SCTP to come up)
  };
  explicit DataChannels(Role role, std::unique_ptr<SctpAssociation> sctp) : role_(role), sctp_(std::move(sctp)) {}
  void pump();  // SCTP's received messages and resets -> events
  void handleDcep(uint16_t stream, ByteSpan payload);
  bool sendOn(uint16_t stream, uint32_t ppid, ByteSpan data);

  Role role_;
  std::unique_ptr<SctpAssociation> sctp_;
  bool started_ = false;
  bool wasEstablished_ = false;
  uint16_t nextStream_ = 0;
  std::map<uint16_t, Channel> channels_;
  std::vector<Event> events_;
  uint64_t dropped_ = 0;
};

}  // namespace rdv::agent
