// A sans-I/O STUN client transaction (RFC 8489 §6.2): one request, retransmitted over UDP until a response
// with its transaction id arrives or the schedule runs out. The caller owns the socket and the clock:
//
//   ClientTransaction t(request, server, now);
//   loop: while (auto out = t.poll(now)) send(out->bytes, out->to);
//         if (t.done()) break;  arm a timer for *t.nextDeadline();
//         on datagram: t.onDatagram(bytes, from, now);  on timer: (just loop: poll handles it)
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "rendezvous/base/address.h"
#include "rendezvous/base/bytes.h"
#include "stun/message.h"

namespace rdv::stun {

using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;

// RFC 8489 §6.2.1 defaults: RTO 500 ms doubling, Rc = 7 transmissions, a last wait of Rm = 16 x RTO.
// Over a reliable transport (`reliable`), one transmission and a timeout of Ti = 39.5 s (§6.2.2).
struct RetransmitConfig {
  std::chrono::milliseconds rto{500};
  unsigned maxTransmissions = 7;  // Rc
  unsigned lastWaitFactor = 16;   // Rm
  bool reliable = false;
  std::chrono::milliseconds reliableTimeout{39500};  // Ti
};

// "Send these bytes to this endpoint".
struct Outgoing {
  Endpoint to;
  Bytes bytes;
};

class ClientTransaction {
 public:
  enum class State { Pending, Succeeded, Failed, TimedOut };  // Failed: an error response arrived

  // `request` must be a well-formed STUN request (its transaction id is read from bytes 8-19).
  ClientTransaction(Bytes request, Endpoint to, RetransmitConfig config = {});
  // A plain Binding request (FINGERPRINT included; SOFTWARE when non-empty; CHANGE-REQUEST when set).
  static ClientTransaction binding(Endpoint to, const TransactionId& tid, RetransmitConfig config = {},
                                   std::optional<ChangeRequestValue> change = std::nullopt,
                                   std::string_view software = {});

  // The datagram due at `now` (the first call sends at once), or nullopt. Also turns an expired final
  // wait into TimedOut.
  std::optional<Outgoing> poll(TimePoint now);
  // When poll() next has something to do; nullopt once done or before the first poll().
  std::optional<TimePoint> nextDeadline() const;
  // Returns true when the datagram is this transaction's response (which then ends the transaction).
  // Anything else (other transaction ids, garbage, requests) is ignored and returns false.
  bool onDatagram(ByteSpan bytes, const Endpoint& from, TimePoint now);

  bool done() const { return state_ != State::Pending; }
  State state() const { return state_; }
  const TransactionId& transactionId() const { return tid_; }
  const Endpoint& destination() const { return to_; }
  // The response (success or error) and where it came from; empty until one arrives.
  const Bytes& response() const { return response_; }
  const Endpoint& responseFrom() const { return responseFrom_; }
  unsigned transmissions() const { return sent_; }

 private:
  Bytes request_;
  Endpoint to_;
  RetransmitConfig config_;
  TransactionId tid_;
  State state_ = State::Pending;
  unsigned sent_ = 0;
  std::chrono::milliseconds interval_{0};
  std::optional<TimePoint> deadline_;
  Bytes response_;
  Endpoint responseFrom_;
};

// What a Binding success response says (RFC 8489 §14.2, RFC 5780 §7.3-7.4).
struct BindingResponseInfo {
  Endpoint mapped;                        // XOR-MAPPED-ADDRESS, else MAPPED-ADDRESS
  std::optional<Endpoint> otherAddress;   // OTHER-ADDRESS (or RFC 3489 CHANGED-ADDRESS)
  std::optional<Endpoint> responseOrigin; // RESPONSE-ORIGIN (or RFC 3489 SOURCE-ADDRESS)
  std::string software;
};
// nullopt when the message is not a Binding success response with a usable mapped address.
std::optional<BindingResponseInfo> readBindingResponse(const MessageView& response);

}  // namespace rdv::stun
