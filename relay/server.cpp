// Server: input dispatch, the request pipeline (cache -> authenticate -> 420 -> 441 -> method handler) and
// the command queue. The method handlers are in allocate.cpp, refresh.cpp, permission.cpp and
// channel_bind.cpp; the relayed traffic in data_path.cpp; expiry in expiry.cpp.
#include "relay/server.h"

#include <algorithm>
#include <array>

#include "stun/binding.h"
#include "stun/channel_data.h"

namespace rdv::relay {

namespace {

// Comprehension-required attributes the engine understands in a TURN request; anything else in
// 0x0000-0x7FFF gets 420 with UNKNOWN-ATTRIBUTES (RFC 8489 §6.3.1.1).
constexpr std::array<uint16_t, 15> kKnownAttributes = {
    stun::attr::Username,          stun::attr::MessageIntegrity,  stun::attr::MessageIntegritySha256,
    stun::attr::Realm,             stun::attr::Nonce,             stun::attr::PasswordAlgorithm,
    stun::attr::Lifetime,          stun::attr::RequestedTransport, stun::attr::DontFragment,
    stun::attr::ReservationToken,  stun::attr::EvenPort,          stun::attr::RequestedAddressFamily,
    stun::attr::XorPeerAddress,    stun::attr::ChannelNumber,     stun::attr::Data,
};

}  // namespace

std::string_view toString(EndReason r) {
  switch (r) {
    case EndReason::Expired: return "expired";
    case EndReason::Deleted: return "deleted";
    case EndReason::ConnectionClosed: return "connection-closed";
    case EndReason::DataCap: return "data-cap";
    case EndReason::DailyBudget: return "daily-budget";
    case EndReason::Shutdown: return "shutdown";
    case EndReason::Admin: return "ended-by-admin";
  }
  return "?";
}

Server::Server(std::shared_ptr<const Config> config, RelaySocketBinder& binder, Rng& rng)
    : config_(std::move(config)),
      binder_(binder),
      rng_(rng),
      auth_(std::in_place, *config_),
      unauthorizedLimiter_(config_->unauthorizedRate, config_->unauthorizedGlobalRate, config_->unauthorizedBuckets,
                           rng.next()),
      allocateLimiter_(config_->allocateRate, config_->allocateGlobalRate, config_->allocateBuckets, rng.next()),
      quota_(config_->quota ? config_->quota : std::make_shared<QuotaBook>()),
      live_(config_->liveRelays ? config_->liveRelays : std::make_shared<LiveRelayPorts>()),
      kernel_(config_->kernelPath.get()),
      nextAllocationId_(config_->firstAllocationId) {}

void Server::reconfigure(std::shared_ptr<const Config> next) {
  if (!next) return;
  auth_.reset();  // it holds a reference to the old config
  config_ = std::move(next);
  auth_.emplace(*config_);
}

void Server::handleClientInput(ByteSpan packet, const ClientTuple& tuple, const Now& now) {
  batchInput_.reset();
  currentInput_ = packet;
  clientInput(packet, tuple, now);
}

void Server::handleClientInput(ByteSpan packet, const ClientTuple& tuple, const Now& now, uint32_t input) {
  batchInput_ = input;
  currentInput_ = packet;
  clientInput(packet, tuple, now);
  batchInput_.reset();
}

void Server::clientInput(ByteSpan packet, const ClientTuple& tuple, const Now& now) {
  switch (stun::classify(packet)) {
    case stun::PacketKind::ChannelData: onClientChannelData(packet, tuple, now); return;
    case stun::PacketKind::Stun: break;
    case stun::PacketKind::Other: ++stats_.dropMalformed; return;
  }
  const auto parsed = stun::MessageView::parse(packet);
  // TURN needs the magic cookie (RFC 8656 §4): RFC 3489 messages are not TURN.
  if (!parsed || !parsed->hasMagicCookie()) {
    ++stats_.dropMalformed;
    return;
  }
  const stun::MessageView& m = *parsed;
  switch (m.cls()) {
    case stun::Class::Request: onRequest(m, tuple, now); return;
    case stun::Class::Indication:
      // Send is the only indication a TURN server acts on; others (Binding keepalives) are ignored.
      if (m.method() == static_cast<uint16_t>(stun::Method::Send)) onSendIndication(m, tuple, now);
      return;
    default: ++stats_.dropMalformed; return;  // a server never expects responses
  }
}

void Server::onRequest(const stun::MessageView& m, const ClientTuple& tuple, const Now& now) {
  if (m.method() == static_cast<uint16_t>(stun::Method::Binding)) {
    onBinding(m, tuple);
    return;
  }
  struct MethodEntry {
    stun::Method method;
    Handler handler;
  };
  static constexpr MethodEntry kMethods[] = {
      {stun::Method::Allocate, &Server::onAllocate},
      {stun::Method::Refresh, &Server::onRefresh},
      {stun::Method::CreatePermission, &Server::onCreatePermission},
      {stun::Method::ChannelBind, &Server::onChannelBind},
  };
  const auto entry = std::find_if(std::begin(kMethods), std::end(kMethods),
                                  [&](const MethodEntry& e) { return static_cast<uint16_t>(e.method) == m.method(); });
  if (entry == std::end(kMethods)) {
    // Unknown method, or Send/Data/Connect sent as a request: 400 (RFC 8489 §6.3.1).
    stun::MessageBuilder b = stun::MessageBuilder::responseTo(m, stun::Class::Error);
    b.addErrorCode(stun::error::BadRequest);
    ++stats_.otherRequestError;
    sendToClient(tuple, finish(b, m, nullptr));
    return;
  }

  // RFC 8489 §6.3.1 / RFC 8656 §7.2: a retransmission (same transaction id on the same 5-tuple) gets the
  // very same answer, without re-running the request (a second Allocate would otherwise get 437).
  Allocation* allocation = allocations_.find(tuple);
  if (allocation && allocation->lastResponseSize != 0 && allocation->lastTransaction == m.transactionId()) {
    ++stats_.retransmissionsAnswered;
    Bytes copy = takeBuffer();
    const ByteSpan kept = allocation->lastResponseBytes();
    copy.assign(kept.begin(), kept.end());
    sendToClient(tuple, std::move(copy));
    return;
  }

  auto credentials = auth_->authenticate(m, tuple.client.ip(), now.unixSeconds);
  if (!credentials) {
    onAuthFailure(m, tuple, credentials.error(), now);
    return;
  }
  // The nonce is bound to this source IP: it receives here, so its challenge was an honest one.
  unauthorizedLimiter_.credit(tuple.client.ip(), now.mono);
  const Request r{m, tuple, *credentials, now, allocation};
  Bytes response;
  if (const auto unknown = m.unknownComprehensionRequired(kKnownAttributes); !unknown.empty()) {
    stun::MessageBuilder b = stun::MessageBuilder::responseTo(m, stun::Class::Error);
    b.addErrorCode(stun::error::UnknownAttribute).addUnknownAttributes(unknown);
    response = finish(b, m, &r.credentials);
  } else if (allocation && allocation->username() != credentials->username) {
    // RFC 8656 §5: requests on an allocation must use the credentials that created it.
    ++stats_.wrongCredentials;
    response = errorReply(r, stun::error::WrongCredentials);
  } else {
    response = (this->*(entry->handler))(r);
  }
  countAnswer(m.method(), response);
  if (Allocation* after = allocations_.find(tuple)) {
    after->lastTransaction = m.transactionId();
    after->keepResponse(response);
  }
  sendToClient(tuple, std::move(response));
}

void Server::onBinding(const stun::MessageView& m, const ClientTuple& tuple) {
  stun::BindingConfig bc;
  bc.software = config_->software;
  const auto reply = stun::handleBinding(m, {tuple.client, tuple.server, isStream(tuple.transport)}, bc);
  if (!reply) return;
  ++stats_.bindingSuccess;
  sendToClient(tuple, reply->bytes);
}

void Server::onAuthFailure(const stun::MessageView& m, const ClientTuple& tuple, AuthError e, const Now& now) {
  const uint16_t code = errorCodeOf(e);
  // DESIGN principle 6: every unauthenticated answer (401, 438, 400) is rate-limited per source, in a
  // bounded table with a global allowance when it saturates (relay/rate_limiter.h): a spoofed flood can
  // neither reflect answers without bound nor starve an honest client of its challenge.
  if (!unauthorizedLimiter_.allow(tuple.client.ip(), now.mono)) {
    ++stats_.unauthorizedRateLimited;
    return;
  }
  if (code == stun::error::Unauthorized) {
    ++stats_.unauthorized;
  } else if (code == stun::error::StaleNonce) {
    ++stats_.staleNonce;
  }
  Bytes response = challenge(m, tuple, code, now);
  countAnswer(m.method(), response);
  sendToClient(tuple, std::move(response));
}

void Server::countAnswer(uint16_t method, ByteSpan response) {
  const bool ok = response.size() >= 2 && stun::classOf(loadBe16(response.data())) == stun::Class::Success;
  switch (static_cast<stun::Method>(method)) {
    case stun::Method::Allocate: ++(ok ? stats_.allocateSuccess : stats_.allocateError); break;
    case stun::Method::Refresh: ++(ok ? stats_.refreshSuccess : stats_.refreshError); break;
    case stun::Method::CreatePermission:
      ++(ok ? stats_.createPermissionSuccess : stats_.createPermissionError);
      break;
    case stun::Method::ChannelBind: ++(ok ? stats_.channelBindSuccess : stats_.channelBindError); break;
    default: break;
  }
  if (response.size() < 2 || ok) return;
  // Error codes counted by kind, read back from the answer so every handler is covered.
  const auto parsed = stun::MessageView::parse(response);
  const auto err = parsed ? parsed->errorCode() : std::nullopt;
  if (!err) return;
  if (err->code == stun::error::AllocationQuotaReached) ++stats_.quotaRejected;
  if (err->code == stun::error::InsufficientCapacity) ++stats_.capacityRejected;
  if (err->code == stun::error::Forbidden) ++stats_.policyRejected;
}

void Server::sendToClient(const ClientTuple& tuple, Bytes bytes) { push(SendToClient{tuple, std::move(bytes)}); }

void Server::push(Command c) { commands_.push_back(std::move(c)); }

void Server::log(LogLevel level, std::string message) {
  if (logs(level)) push(LogEvent{level, std::move(message)});
}

std::optional<Command> Server::nextCommand() {
  if (commandHead_ >= commands_.size()) {
    commands_.clear();
    commandHead_ = 0;
    return std::nullopt;
  }
  Command c = std::move(commands_[commandHead_++]);
  if (commandHead_ == commands_.size()) {
    commands_.clear();
    commandHead_ = 0;
  }
  return c;
}

Bytes Server::takeBuffer() {
  if (bufferPool_.empty()) return {};
  Bytes b = std::move(bufferPool_.back());
  bufferPool_.pop_back();
  b.clear();
  return b;
}

void Server::recycle(Bytes&& buffer) {
  constexpr size_t kMaxPooled = 256;
  if (bufferPool_.size() < kMaxPooled && buffer.capacity() > 0) bufferPool_.push_back(std::move(buffer));
}

const Allocation* Server::findAllocation(const ClientTuple& tuple) const {
  return allocations_.find(tuple);
}

const ChannelBinding* Server::findChannel(const ClientTuple& tuple, uint16_t channel) const {
  const auto it = channels_.find(ChannelKey{tuple, channel});
  return it == channels_.end() ? nullptr : &it->second;
}

}  // namespace rdv::relay
