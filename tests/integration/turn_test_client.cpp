#include "tests/integration/turn_test_client.h"

#include <netinet/in.h>
#include <openssl/evp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <ctime>

#include "stun/channel_data.h"
#include "stun/integrity.h"

namespace rdv::test {

UdpSocket::UdpSocket(uint32_t localHostOrder) {
  fd_ = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) return;
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(localHostOrder);
  const int big = 4 * 1024 * 1024;
  setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
  if (bind(fd_, reinterpret_cast<sockaddr*>(&sin), sizeof(sin)) != 0) {
    close(fd_);
    fd_ = -1;
  }
}

UdpSocket::~UdpSocket() {
  if (fd_ >= 0) close(fd_);
}

Endpoint UdpSocket::local() const {
  sockaddr_storage ss{};
  socklen_t len = sizeof(ss);
  getsockname(fd_, reinterpret_cast<sockaddr*>(&ss), &len);
  return Endpoint::fromSockaddr(reinterpret_cast<sockaddr*>(&ss)).value_or(Endpoint());
}

uint16_t UdpSocket::port() const { return local().port(); }

bool UdpSocket::sendTo(const Endpoint& to, ByteSpan bytes) {
  sockaddr_storage ss{};
  const unsigned len = to.toSockaddr(ss);
  return sendto(fd_, bytes.data(), bytes.size(), 0, reinterpret_cast<sockaddr*>(&ss), len) ==
         static_cast<ssize_t>(bytes.size());
}

std::optional<Bytes> UdpSocket::receive(std::chrono::milliseconds timeout, Endpoint* from) {
  pollfd p{fd_, POLLIN, 0};
  if (poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return std::nullopt;
  Bytes buf(65536);
  sockaddr_storage ss{};
  socklen_t len = sizeof(ss);
  const ssize_t n = recvfrom(fd_, buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&ss), &len);
  if (n < 0) return std::nullopt;
  buf.resize(static_cast<size_t>(n));
  if (from) *from = Endpoint::fromSockaddr(reinterpret_cast<sockaddr*>(&ss)).value_or(Endpoint());
  return buf;
}

TurnTestClient::TurnTestClient(Endpoint server, std::string username, std::string password, uint32_t localHostOrder)
    : server_(std::move(server)), username_(std::move(username)), password_(std::move(password)), socket_(localHostOrder) {}

Bytes TurnTestClient::build(stun::Method method, const std::function<void(stun::MessageBuilder&)>& attrs, bool auth) {
  stun::TransactionId tid;
  ++counter_;
  for (int i = 0; i < 8; ++i) tid.bytes[i] = static_cast<uint8_t>(counter_ >> (8 * i));
  const uint64_t salt = reinterpret_cast<uintptr_t>(this);
  for (int i = 0; i < 4; ++i) tid.bytes[8 + i] = static_cast<uint8_t>(salt >> (8 * i));
  stun::MessageBuilder b(method, stun::Class::Request, tid);
  if (attrs) attrs(b);
  if (auth) {
    b.addString(stun::attr::Username, username_).addString(stun::attr::Realm, realm_).addString(stun::attr::Nonce, nonce_);
    b.addMessageIntegrity(key_);
  }
  b.addFingerprint();
  return std::move(b).finish();
}

TurnAnswer TurnTestClient::request(stun::Method method, const std::function<void(stun::MessageBuilder&)>& attrs) {
  TurnAnswer a;
  for (int attempt = 0; attempt < 3; ++attempt) {
    const bool auth = !nonce_.empty();
    const Bytes req = build(method, attrs, auth);
    const auto sent = stun::MessageView::parse(req);
    a = TurnAnswer{};
    bool answered = false;
    for (int retransmit = 0; retransmit < 5 && !answered; ++retransmit) {
      socket_.sendTo(server_, req);
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(500);
      while (std::chrono::steady_clock::now() < deadline) {
        auto got = socket_.receive(std::chrono::milliseconds(100));
        if (!got) continue;
        auto m = stun::MessageView::parse(*got);
        if (!m || m->transactionId() != sent->transactionId()) continue;  // relayed data or a stale answer
        a.raw = std::move(*got);
        a.message = *stun::MessageView::parse(a.raw);
        answered = true;
        break;
      }
    }
    if (!answered) {
      a.timedOut = true;
      return a;
    }
    const stun::MessageView& m = *a.message;
    if (m.cls() == stun::Class::Success) {
      a.ok = true;
      return a;
    }
    const auto e = m.errorCode();
    a.error = e ? e->code : 0;
    if (a.error == 401 || a.error == 438) {
      const bool hadNonce = !nonce_.empty();
      if (auto r = m.string(stun::attr::Realm)) realm_ = std::string(*r);
      if (auto n = m.string(stun::attr::Nonce)) nonce_ = std::string(*n);
      key_ = stun::longTermKey(username_, realm_, password_);
      if (a.error == 401 && hadNonce) return a;  // wrong credentials: do not loop
      continue;
    }
    return a;
  }
  return a;
}

TurnAnswer TurnTestClient::allocate(std::optional<uint32_t> lifetime) {
  auto a = request(stun::Method::Allocate, [&](stun::MessageBuilder& b) {
    b.addRequestedTransport(stun::kTransportUdp);
    if (lifetime) b.addU32(stun::attr::Lifetime, *lifetime);
  });
  if (a.ok) relayed_ = a.message->xorAddress(stun::attr::XorRelayedAddress);
  return a;
}

void TurnTestClient::learnFrom(const TurnTestClient& other) {
  realm_ = other.realm_;
  nonce_ = other.nonce_;
  key_ = stun::longTermKey(username_, realm_, password_);
}

TurnAnswer TurnTestClient::refresh(uint32_t lifetime) {
  return request(stun::Method::Refresh, [&](stun::MessageBuilder& b) { b.addU32(stun::attr::Lifetime, lifetime); });
}

TurnAnswer TurnTestClient::permit(const Endpoint& peer) {
  return request(stun::Method::CreatePermission,
                 [&](stun::MessageBuilder& b) { b.addXorAddress(stun::attr::XorPeerAddress, peer); });
}

TurnAnswer TurnTestClient::bindChannel(uint16_t channel, const Endpoint& peer) {
  return request(stun::Method::ChannelBind, [&](stun::MessageBuilder& b) {
    b.addChannelNumber(channel).addXorAddress(stun::attr::XorPeerAddress, peer);
  });
}

bool TurnTestClient::sendChannelData(uint16_t channel, ByteSpan data) {
  Bytes out;
  stun::appendChannelData(out, channel, data, false);
  return socket_.sendTo(server_, out);
}

bool TurnTestClient::sendIndication(const Endpoint& peer, ByteSpan data) {
  stun::TransactionId tid;
  ++counter_;
  for (int i = 0; i < 8; ++i) tid.bytes[i] = static_cast<uint8_t>(counter_ >> (8 * i));
  stun::MessageBuilder b(stun::Method::Send, stun::Class::Indication, tid);
  b.addXorAddress(stun::attr::XorPeerAddress, peer).add(stun::attr::Data, data);
  return socket_.sendTo(server_, std::move(b).finish());
}

std::optional<Bytes> TurnTestClient::receiveData(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return std::nullopt;
    auto got = socket_.receive(left);
    if (!got) return std::nullopt;
    const auto kind = stun::classify(*got);
    if (kind == stun::PacketKind::ChannelData) {
      const auto cd = stun::parseChannelData(*got);
      if (cd) return Bytes(cd->data.begin(), cd->data.end());
    } else if (kind == stun::PacketKind::Stun) {
      const auto m = stun::MessageView::parse(*got);
      if (m && m->is(stun::Method::Data, stun::Class::Indication) && m->data())
        return Bytes(m->data()->begin(), m->data()->end());
    }
  }
}

}  // namespace rdv::test
