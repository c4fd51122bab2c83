#include "bench/loadgen/udp.h"

#include <netinet/in.h>
#include <sched.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>

namespace rdv::bench {

int64_t nowNs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

bool pinToCpu(int cpu) {
  if (cpu < 0) return true;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  return sched_setaffinity(0, sizeof(set), &set) == 0;
}

bool isLoopback(const Endpoint& ep) {
  const IpAddress& ip = ep.ip();
  if (ip.isV4()) return ip.data()[0] == 127;
  static const std::array<uint8_t, 16> kLoop6{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  return std::memcmp(ip.data(), kLoop6.data(), 16) == 0;
}

bool isBenchAddress(const Endpoint& ep) {
  const IpAddress& ip = ep.ip();
  return isLoopback(ep) || (ip.isV4() && ip.data()[0] == 198 && (ip.data()[1] & 0xFE) == 18);
}

int openUdp(const Endpoint& local, const Endpoint* remote, std::string& error, bool reusePort) {
  if (remote && !isBenchAddress(*remote)) {
    error = "refusing a destination outside loopback and 198.18.0.0/15: " + remote->toString();
    return -1;
  }
  const int domain = local.family() == Family::V4 ? AF_INET : AF_INET6;
  const int fd = socket(domain, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    error = std::string("socket: ") + std::strerror(errno);
    return -1;
  }
  const int buf = 4 << 20;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
  const int one = 1;
  if (reusePort && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0) {
    error = std::string("SO_REUSEPORT: ") + std::strerror(errno);
    close(fd);
    return -1;
  }
  sockaddr_storage ss{};
  socklen_t len = local.toSockaddr(ss);
  if (bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) {
    error = "bind " + local.toString() + ": " + std::strerror(errno);
    close(fd);
    return -1;
  }
  if (remote) {
    len = remote->toSockaddr(ss);
    if (connect(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) {
      error = "connect " + remote->toString() + ": " + std::strerror(errno);
      close(fd);
      return -1;
    }
  }
  return fd;
}

Endpoint localEndpoint(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof(ss);
  getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
  return Endpoint::fromSockaddr(reinterpret_cast<sockaddr*>(&ss)).value_or(Endpoint{});
}

Batch::Batch() : bufs_(kBatch) {
  for (unsigned i = 0; i < kBatch; ++i) {
    iovs_[i] = {bufs_[i].data(), kBufSize};
    hdr(i).msg_iov = &iovs_[i];
    hdr(i).msg_iovlen = 1;
  }
}

unsigned Batch::receive(int fd) {
  for (unsigned i = 0; i < kBatch; ++i) {
    iovs_[i].iov_len = kBufSize;
    hdr(i).msg_name = &addrs_[i];
    hdr(i).msg_namelen = sizeof(sockaddr_storage);
    if (!control_.empty()) {
      hdr(i).msg_control = control_[i].data();
      hdr(i).msg_controllen = sizeof(control_[i]);
    }
  }
  const int n = recvmmsg(fd, msgs_.data(), kBatch, MSG_DONTWAIT, nullptr);
  return n > 0 ? static_cast<unsigned>(n) : 0;
}

void Batch::enableControl() { control_.resize(kBatch); }

int64_t Batch::rxStampNs(unsigned i) {
  if (control_.empty()) return 0;
  msghdr& m = hdr(i);
  for (cmsghdr* c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS && c->cmsg_len >= CMSG_LEN(sizeof(timespec))) {
      timespec ts{};
      std::memcpy(&ts, CMSG_DATA(c), sizeof(ts));
      return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
    }
  }
  return 0;
}

void Batch::setAddress(unsigned i, const sockaddr_storage& a, socklen_t len) {
  addrs_[i] = a;
  hdr(i).msg_name = &addrs_[i];
  hdr(i).msg_namelen = len;
}

unsigned Batch::send(int fd, unsigned count) {
  for (unsigned i = 0; i < count && !control_.empty(); ++i) {  // what receive() got is not for sending
    hdr(i).msg_control = nullptr;
    hdr(i).msg_controllen = 0;
  }
  unsigned done = 0;
  while (done < count) {
    const int n = sendmmsg(fd, msgs_.data() + done, count - done, MSG_DONTWAIT);
    if (n <= 0) break;  // EAGAIN/ENOBUFS: the caller counts the rest as not sent
    done += static_cast<unsigned>(n);
  }
  return done;
}

Poller::Poller() : fd_(epoll_create1(EPOLL_CLOEXEC)) {}
Poller::~Poller() {
  if (fd_ >= 0) close(fd_);
}

void Poller::add(int fd, uint32_t index) {
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u32 = index;
  epoll_ctl(fd_, EPOLL_CTL_ADD, fd, &ev);
}

void Poller::remove(int fd) { epoll_ctl(fd_, EPOLL_CTL_DEL, fd, nullptr); }

void Poller::wait(std::vector<uint32_t>& ready, int timeoutMs) {
  std::array<epoll_event, 256> evs{};
  ready.clear();
  const int n = epoll_wait(fd_, evs.data(), static_cast<int>(evs.size()), timeoutMs);
  for (int i = 0; i < n; ++i) ready.push_back(evs[static_cast<size_t>(i)].data.u32);
}

uint64_t raiseFileLimit() {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return 0;
  rl.rlim_cur = rl.rlim_max;
  setrlimit(RLIMIT_NOFILE, &rl);
  getrlimit(RLIMIT_NOFILE, &rl);
  return rl.rlim_cur;
}

}  // namespace rdv::bench
