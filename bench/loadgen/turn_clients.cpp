#include "bench/loadgen/turn_clients.h"

#include <openssl/evp.h>
#include <unistd.h>

#include <ctime>

#include "stun/integrity.h"

namespace rdv::bench {

using stun::Class;
using stun::Method;
using Stage = Session::Stage;

std::string restUsername(const std::string& name, int64_t unixNow, int64_t validity) {
  return std::to_string(unixNow + validity) + ":" + name;
}

std::string restPassword(const std::string& secret, const std::string& username) {
  const Bytes mac = stun::hmacSha1(asBytes(secret), asBytes(username));
  std::string out(4 * ((mac.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), mac.data(),
                                static_cast<int>(mac.size()));
  out.resize(n > 0 ? static_cast<size_t>(n) : 0);
  return out;
}

TurnClients::TurnClients(const Options& o) : options_(o) {
  if (o.restSecret.empty()) {
    username_ = o.user;
    password_ = o.password;
  } else {
    username_ = restUsername(o.user, std::time(nullptr), 86400);
    password_ = restPassword(o.restSecret, username_);
  }
}

TurnClients::~TurnClients() {
  for (auto& s : sessions_)
    if (s.fd >= 0) close(s.fd);
}

bool TurnClients::reopen(size_t i) {
  Session& s = sessions_[i];
  if (s.fd >= 0) {
    poller_.remove(s.fd);
    close(s.fd);
  }
  // Every socket gets a source address of its own in 127.64.0.0/10: no 5-tuple is ever reused (coturn keeps
  // state for a closed one a while), and a server's per-source 401 limiter sees many clients, as in life.
  // With --slice K/N each of the N load generators counts in its own K-th of the range.
  if (nextSource_ == 0) nextSource_ = static_cast<uint32_t>(nowNs() / 1000);  // runs start apart
  const uint32_t range = 254u * 256u * 64u / options_.slices;
  const uint32_t n = options_.slice * range + nextSource_++ % range;
  const IpAddress local = options_.clientIp ? *options_.clientIp
                                            : IpAddress::v4((127u << 24) | (64u << 16) | ((n / 254) << 8) | (1 + n % 254));
  std::string error;
  s = Session{};
  s.fd = openUdp(Endpoint(local, 0), &options_.server, error);
  if (s.fd < 0) {
    stats_.lastError = error;
    return false;
  }
  poller_.add(s.fd, static_cast<uint32_t>(i));
  return true;
}

bool TurnClients::open(unsigned n, std::string& error) {
  sessions_.resize(n);
  for (size_t i = 0; i < n; ++i) {
    if (!reopen(i)) {
      error = stats_.lastError;
      return false;
    }
  }
  return true;
}

void TurnClients::sendRequest(size_t i, Method m) {
  Session& s = sessions_[i];
  s.tid = stun::randomTransactionId();
  stun::MessageBuilder b(m, Class::Request, s.tid);
  if (m == Method::Allocate) b.addRequestedTransport(stun::kTransportUdp);
  if (m == Method::Refresh) b.addU32(stun::attr::Lifetime, 0);
  if (m == Method::ChannelBind) b.addChannelNumber(0x4000);
  if (m == Method::ChannelBind || m == Method::CreatePermission) b.addXorAddress(stun::attr::XorPeerAddress, peer_);
  const bool authenticated = !(m == Method::Allocate && s.stage == Stage::Probe);
  if (authenticated) {
    b.addString(stun::attr::Username, username_).addString(stun::attr::Realm, realm_);
    b.addString(stun::attr::Nonce, s.nonce).addMessageIntegrity(key_);
  }
  b.addFingerprint();
  s.request = std::move(b).finish();
  s.sentNs = nowNs();
  s.retries = 0;
  (void)::send(s.fd, s.request.data(), s.request.size(), MSG_DONTWAIT);
}

void TurnClients::start(size_t i) {
  Session& s = sessions_[i];
  s.stage = Stage::Probe;
  s.staleNonces = 0;
  ++active_;
  sendRequest(i, Method::Allocate);
}

void TurnClients::finish(size_t i, Stage stage) {
  Session& s = sessions_[i];
  --active_;
  s.stage = stage;
  if (plan_ == Plan::Cycle) {
    if (!reopen(i)) return;  // a fresh 5-tuple per cycle: coturn answers 437 to a reused one for a while
    sessions_[i].stage = Stage::Idle;
    idle_.push_back(i);
  }
}

void TurnClients::afterAllocate(size_t i) {
  Session& s = sessions_[i];
  switch (plan_) {
    case Plan::Cycle:
      s.stage = Stage::Release;
      sendRequest(i, Method::Refresh);
      return;
    case Plan::Hold:
      finish(i, Stage::Done);
      return;
    case Plan::Channel:
    case Plan::Permission:
      s.stage = Stage::Bind;
      sendRequest(i, plan_ == Plan::Channel ? Method::ChannelBind : Method::CreatePermission);
      return;
  }
}

void TurnClients::onSuccess(size_t i, const stun::MessageView& m) {
  Session& s = sessions_[i];
  switch (s.stage) {
    case Stage::Probe:  // no authentication asked for: take the allocation as it is
    case Stage::Auth: {
      auto relayed = m.xorAddress(stun::attr::XorRelayedAddress);
      if (!m.is(Method::Allocate, Class::Success) || !relayed) {
        ++stats_.errors;
        stats_.lastError = "Allocate success without XOR-RELAYED-ADDRESS";
        finish(i, Stage::Failed);
        return;
      }
      s.relayed = *relayed;
      ++stats_.allocations;
      afterAllocate(i);
      return;
    }
    case Stage::Bind:
      ++stats_.bound;
      finish(i, Stage::Done);
      return;
    case Stage::Release:
      ++stats_.released;
      if (plan_ == Plan::Cycle) ++stats_.cycles;
      s.relayed = Endpoint{};
      finish(i, Stage::Done);
      return;
    default:
      return;
  }
}

void TurnClients::onError(size_t i, const stun::MessageView& m) {
  Session& s = sessions_[i];
  const auto err = m.errorCode();
  const uint16_t code = err ? err->code : 0;
  const auto nonce = m.string(stun::attr::Nonce);
  if (code == stun::error::Unauthorized && s.stage == Stage::Probe && nonce) {
    ++stats_.challenges;
    const auto realm = m.string(stun::attr::Realm).value_or("");
    if (key_.empty() || realm != realm_) {
      realm_ = std::string(realm);
      key_ = stun::longTermKey(username_, realm_, password_);
    }
    s.nonce = std::string(*nonce);
    s.stage = Stage::Auth;
    sendRequest(i, Method::Allocate);
    return;
  }
  if (code == stun::error::StaleNonce && nonce && s.staleNonces++ < 3) {
    s.nonce = std::string(*nonce);
    sendRequest(i, static_cast<Method>(m.method()));
    return;
  }
  // 437 to an Allocate: the server still holds state for this 5-tuple (a recently closed client port the
  // kernel handed out again). A client picks a new 5-tuple (RFC 8656 §7.2); so do we.
  if (code == stun::error::AllocationMismatch && m.method() == static_cast<uint16_t>(Method::Allocate) &&
      stats_.mismatches < 1000 && reopen(i)) {
    ++stats_.mismatches;
    sessions_[i].stage = Stage::Probe;
    sendRequest(i, Method::Allocate);
    return;
  }
  ++stats_.errors;
  stats_.lastError = "error " + std::to_string(code) + " to method " + std::to_string(m.method()) + " from " +
                     localEndpoint(s.fd).toString();
  finish(i, Stage::Failed);
}

void TurnClients::onDatagram(size_t i, ByteSpan bytes) {
  auto parsed = stun::MessageView::parse(bytes);
  if (!parsed || parsed->transactionId() != sessions_[i].tid) return;  // stray or late retransmit answer
  const Stage stage = sessions_[i].stage;
  if (stage == Stage::Idle || stage == Stage::Done || stage == Stage::Failed) return;
  if (parsed->cls() == Class::Success) onSuccess(i, *parsed);
  else if (parsed->cls() == Class::Error) onError(i, *parsed);
}

void TurnClients::checkTimeouts(int64_t now) {
  const auto timeout = static_cast<int64_t>(options_.setupTimeout * 1e9);
  for (size_t i = 0; i < sessions_.size(); ++i) {
    Session& s = sessions_[i];
    if (s.stage == Stage::Idle || s.stage == Stage::Done || s.stage == Stage::Failed) continue;
    if (now - s.sentNs < timeout) continue;
    if (s.retries++ < 3) {
      s.sentNs = now;
      (void)::send(s.fd, s.request.data(), s.request.size(), MSG_DONTWAIT);
      continue;
    }
    ++stats_.timeouts;
    stats_.lastError = "no answer after 3 retransmissions";
    finish(i, Stage::Failed);
  }
}

void TurnClients::pump(int waitMs) {
  poller_.wait(ready_, waitMs);
  for (uint32_t i : ready_) {
    const unsigned n = batch_.receive(sessions_[i].fd);
    for (unsigned k = 0; k < n; ++k) onDatagram(i, ByteSpan(batch_.buffer(k), batch_.length(k)));
  }
}

void TurnClients::run(Plan plan, const Endpoint& peer, int64_t deadlineNs, unsigned concurrency,
                      double rate, uint64_t maxCycles) {
  plan_ = plan;
  peer_ = peer;
  idle_.clear();
  for (size_t i = sessions_.size(); i-- > 0;) idle_.push_back(i);
  const int64_t t0 = nowNs();
  uint64_t started = 0;
  int64_t lastScan = t0;
  for (int64_t now = t0; now < deadlineNs; now = nowNs()) {
    const bool budgetLeft = maxCycles == 0 || started < maxCycles;
    while (!idle_.empty() && active_ < concurrency && budgetLeft && (maxCycles == 0 || started < maxCycles)) {
      if (rate > 0 && static_cast<double>(started) >= (static_cast<double>(now - t0) / 1e9) * rate) break;
      const size_t i = idle_.back();
      idle_.pop_back();
      start(i);
      ++started;
    }
    if (active_ == 0 && (plan != Plan::Cycle || !budgetLeft)) break;
    pump(active_ > 0 ? 1 : 0);
    if (now - lastScan > 20'000'000) {
      checkTimeouts(now);
      lastScan = now;
    }
  }
}

void TurnClients::releaseAll(int64_t deadlineNs) {
  plan_ = Plan::Hold;  // requests still in flight finish without a follow-up
  active_ = 0;
  for (const auto& s : sessions_)
    if (s.stage == Stage::Probe || s.stage == Stage::Auth || s.stage == Stage::Bind || s.stage == Stage::Release)
      ++active_;
  int64_t lastScan = nowNs();
  for (int64_t now = lastScan; now < deadlineNs; now = nowNs()) {
    bool waiting = active_ > 0;
    for (size_t i = 0; i < sessions_.size() && active_ < 256; ++i) {
      Session& s = sessions_[i];
      const bool settled = s.stage == Stage::Done || s.stage == Stage::Failed || s.stage == Stage::Idle;
      if (!settled || s.relayed.port() == 0 || s.releaseSent) continue;
      s.releaseSent = true;
      s.stage = Stage::Release;
      ++active_;
      waiting = true;
      sendRequest(i, Method::Refresh);
    }
    if (!waiting) break;
    pump(1);
    if (now - lastScan > 20'000'000) {
      checkTimeouts(now);
      lastScan = now;
    }
  }
}

}  // namespace rdv::bench
