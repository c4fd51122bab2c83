#include "signalling/agent/turn_tls_bridge.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

#include "rendezvous/client/net.h"

namespace rdv::agent {

namespace {
constexpr auto kConnectTimeout = std::chrono::seconds(5);

void closeFd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}
}  // namespace

struct TurnTlsBridge::Impl {
  TlsTarget target;
  int listener = -1;
  int stop[2] = {-1, -1};  // written once at shutdown; every poll watches stop[0]
  Endpoint local;
  std::thread acceptor;
  std::mutex mutex;
  std::vector<std::thread> pumps;
  std::atomic<uint64_t> refused{0};

  void acceptLoop();
  void pump(int client);
};

void TurnTlsBridge::Impl::acceptLoop() {
  while (true) {
    pollfd fds[2] = {{listener, POLLIN, 0}, {stop[0], POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (fds[1].revents) return;
    const int client = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) continue;
    std::lock_guard lock(mutex);
    pumps.emplace_back([this, client] { pump(client); });
  }
}

// Both directions of one connection until either side closes or the bridge stops.
void TurnTlsBridge::Impl::pump(int client) {
  cli::Stream::TlsOptions tls;
  tls.caFile = target.caFile;
  tls.serverName = target.serverName;
  auto upstream = cli::Stream::connect(target.server, kConnectTimeout, &tls);
  if (!upstream) {
    ++refused;
    closeFd(client);
    return;
  }
  auto& s = **upstream;
  std::vector<uint8_t> buf(65536);
  bool open = true;
  while (open) {
    pollfd fds[3] = {{client, POLLIN, 0}, {s.fd(), POLLIN, 0}, {stop[0], POLLIN, 0}};
    if (::poll(fds, 3, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (fds[2].revents) break;
    if (fds[0].revents) {
      const ssize_t n = ::recv(client, buf.data(), buf.size(), 0);
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) break;
      if (n > 0 && !s.write(ByteSpan(buf.data(), static_cast<size_t>(n)))) break;
    }
    if (fds[1].revents) {
      // Everything OpenSSL can give now (a past deadline: no waiting); an empty read is either a partial
      // record (more to come) or the end: the socket tells which.
      const auto now = std::chrono::steady_clock::now() - std::chrono::milliseconds(1);
      while (true) {
        const Bytes b = s.read(now);
        if (b.empty()) break;
        if (::send(client, b.data(), b.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(b.size())) {
          open = false;
          break;
        }
      }
      char probe;
      const ssize_t peek = ::recv(s.fd(), &probe, 1, MSG_PEEK | MSG_DONTWAIT);
      if (peek == 0 || (peek < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) open = false;
    }
  }
  closeFd(client);
}

Result<std::unique_ptr<TurnTlsBridge>, std::string> TurnTlsBridge::start(TlsTarget target,
                                                                         const std::string& listenIp) {
  auto ip = IpAddress::parse(listenIp);
  if (!ip) return unexpected("turn-tls bridge: bad listen address " + listenIp);
  auto impl = std::make_unique<Impl>();
  impl->target = std::move(target);
  sockaddr_storage ss{};
  const unsigned len = Endpoint(*ip, 0).toSockaddr(ss);
  impl->listener = ::socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (impl->listener < 0 || ::bind(impl->listener, reinterpret_cast<sockaddr*>(&ss), len) != 0 ||
      ::listen(impl->listener, 16) != 0 || ::pipe2(impl->stop, O_CLOEXEC) != 0) {
    const std::string why = std::strerror(errno);
    closeFd(impl->listener);
    return unexpected("turn-tls bridge: cannot listen on " + listenIp + ": " + why);
  }
  sockaddr_storage bound{};
  socklen_t blen = sizeof(bound);
  ::getsockname(impl->listener, reinterpret_cast<sockaddr*>(&bound), &blen);
  impl->local = Endpoint::fromSockaddr(reinterpret_cast<sockaddr*>(&bound)).value_or(Endpoint(*ip, 0));
  Impl* raw = impl.get();
  impl->acceptor = std::thread([raw] { raw->acceptLoop(); });
  return std::unique_ptr<TurnTlsBridge>(new TurnTlsBridge(std::move(impl)));
}

TurnTlsBridge::TurnTlsBridge(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

TurnTlsBridge::~TurnTlsBridge() {
  const char one = 1;
  [[maybe_unused]] const ssize_t w = ::write(impl_->stop[1], &one, 1);
  impl_->acceptor.join();
  std::vector<std::thread> pumps;
  {
    std::lock_guard lock(impl_->mutex);
    pumps.swap(impl_->pumps);
  }
  for (auto& t : pumps) t.join();
  closeFd(impl_->listener);
  closeFd(impl_->stop[0]);
  closeFd(impl_->stop[1]);
}

Endpoint TurnTlsBridge::local() const { return impl_->local; }
uint64_t TurnTlsBridge::refused() const { return impl_->refused.load(); }

}  // namespace rdv::agent
