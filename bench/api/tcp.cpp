#include "bench/api/tcp.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>

namespace rdv::bench {

int64_t monoNs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

void raiseOpenFiles(size_t n) {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return;
  if (rl.rlim_cur >= n) return;
  rl.rlim_cur = std::min<rlim_t>(static_cast<rlim_t>(n), rl.rlim_max);
  setrlimit(RLIMIT_NOFILE, &rl);
}

uint64_t rssKib(int pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::strtoull(line.c_str() + 6, nullptr, 10);
  }
  return 0;
}

double cpuSeconds(int pid) {
  // The process's CPU clock counts nanoseconds (all its threads, dead ones included); /proc/PID/stat
  // rounds to clock ticks (10 ms), too coarse for a short run.
  clockid_t clock{};
  timespec ts{};
  if (clock_getcpuclockid(static_cast<pid_t>(pid), &clock) == 0 && clock_gettime(clock, &ts) == 0)
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  const size_t close = text.rfind(')');  // the command name may contain spaces
  if (close == std::string::npos) return 0;
  std::istringstream rest(text.substr(close + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {  // fields 14 and 15: utime, stime (clock ticks)
    if (i == 14) utime = std::strtoull(field.c_str(), nullptr, 10);
    if (i == 15) stime = std::strtoull(field.c_str(), nullptr, 10);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

void pinToCpu(int cpu) {
  if (cpu < 0) return;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  sched_setaffinity(0, sizeof(set), &set);
}

Epoll::Epoll() : fd_(epoll_create1(EPOLL_CLOEXEC)) {
  if (fd_ < 0) throw std::runtime_error("epoll_create1 failed");
}
Epoll::~Epoll() { ::close(fd_); }

void Epoll::add(int fd, void* tag, bool wantWrite) {
  epoll_event ev{};
  ev.events = EPOLLIN | (wantWrite ? EPOLLOUT : 0u);
  ev.data.ptr = tag;
  epoll_ctl(fd_, EPOLL_CTL_ADD, fd, &ev);
}

void Epoll::modify(int fd, void* tag, bool wantWrite) {
  epoll_event ev{};
  ev.events = EPOLLIN | (wantWrite ? EPOLLOUT : 0u);
  ev.data.ptr = tag;
  epoll_ctl(fd_, EPOLL_CTL_MOD, fd, &ev);
}

void Epoll::remove(int fd) { epoll_ctl(fd_, EPOLL_CTL_DEL, fd, nullptr); }

int Epoll::wait(epoll_event* events, int max, int timeoutMs) {
  const int n = epoll_wait(fd_, events, max, timeoutMs);
  return n < 0 ? 0 : n;
}

bool TcpConn::connect(const Endpoint& server, std::string& error) {
  sockaddr_storage ss{};
  const socklen_t len = server.toSockaddr(ss);
  fd = ::socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    error = std::string("socket: ") + std::strerror(errno);
    return false;
  }
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0 && errno != EINPROGRESS) {
    error = std::string("connect: ") + std::strerror(errno);
    ::close(fd);
    fd = -1;
    return false;
  }
  return true;
}

int TcpConn::connectResult() const {
  int err = 0;
  socklen_t len = sizeof(err);
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) return errno;
  return err;
}

bool TcpConn::readAvailable() {
  if (inPos > 0 && inPos * 2 >= in.size()) {
    in.erase(0, inPos);
    inPos = 0;
  }
  char buf[65536];
  for (;;) {
    const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n > 0) {
      in.append(buf, static_cast<size_t>(n));
      if (static_cast<size_t>(n) < sizeof(buf)) return true;
      continue;
    }
    if (n == 0) return false;
    return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
  }
}

bool TcpConn::flush(Epoll& loop) {
  while (outPos < out.size()) {
    const ssize_t n = ::send(fd, out.data() + outPos, out.size() - outPos, MSG_NOSIGNAL);
    if (n > 0) {
      outPos += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    if (n < 0 && errno == EINTR) continue;
    return false;
  }
  if (outPos == out.size()) {
    out.clear();
    outPos = 0;
  }
  const bool want = outPos < out.size();
  if (want != writeArmed) {
    loop.modify(fd, this, want);
    writeArmed = want;
  }
  return true;
}

bool TcpConn::send(Epoll& loop, std::string_view bytes) {
  out.append(bytes);
  if (writeArmed) return true;  // EPOLLOUT will flush it
  return flush(loop);
}

void TcpConn::consume(size_t n) { inPos += n; }

void TcpConn::close(Epoll& loop) {
  if (fd < 0) return;
  loop.remove(fd);
  ::close(fd);
  fd = -1;
}

namespace {

std::string base64(const uint8_t* data, size_t n) {
  std::string out(4 * ((n + 2) / 3) + 1, '\0');
  const int len = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(n));
  out.resize(static_cast<size_t>(len));
  return out;
}

bool iequalsPrefix(std::string_view line, std::string_view name) {
  if (line.size() < name.size()) return false;
  for (size_t i = 0; i < name.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(line[i])) != std::tolower(static_cast<unsigned char>(name[i])))
      return false;
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// Calls fn(name_lowercase_prefix_checker_line) for each header line between the status line and `end`.
template <typename Fn>
void forEachHeader(std::string_view head, Fn fn) {
  size_t pos = head.find("\r\n");
  while (pos != std::string_view::npos && pos + 2 < head.size()) {
    const size_t next = head.find("\r\n", pos + 2);
    const std::string_view line = head.substr(pos + 2, (next == std::string_view::npos ? head.size() : next) - pos - 2);
    fn(line);
    pos = next;
  }
}

}  // namespace

std::string webSocketUpgrade(const Endpoint& server, const std::string& path, std::string& expectedAccept) {
  uint8_t nonce[16];
  RAND_bytes(nonce, sizeof(nonce));
  const std::string key = base64(nonce, sizeof(nonce));
  const std::string magic = key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  uint8_t digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(magic.data()), magic.size(), digest);
  expectedAccept = base64(digest, sizeof(digest));
  return "GET " + path + " HTTP/1.1\r\nHost: " + server.toString() +
         "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + key +
         "\r\nSec-WebSocket-Version: 13\r\n\r\n";
}

long parseUpgradeAnswer(std::string_view in, const std::string& expectedAccept) {
  const size_t end = in.find("\r\n\r\n");
  if (end == std::string_view::npos) return in.size() > 16384 ? -1 : 0;
  const std::string_view head = in.substr(0, end);
  if (head.substr(0, 12) != "HTTP/1.1 101") return -1;
  bool accepted = false;
  forEachHeader(head, [&](std::string_view line) {
    if (iequalsPrefix(line, "sec-websocket-accept:")) accepted = trim(line.substr(21)) == expectedAccept;
  });
  return accepted ? static_cast<long>(end + 4) : -1;
}

std::string maskedFrame(uint8_t opcode, std::string_view payload) {
  std::string f;
  f.reserve(payload.size() + 14);
  f.push_back(static_cast<char>(0x80 | opcode));
  const size_t n = payload.size();
  if (n < 126) {
    f.push_back(static_cast<char>(0x80 | n));
  } else if (n <= 0xffff) {
    f.push_back(static_cast<char>(0x80 | 126));
    f.push_back(static_cast<char>(n >> 8));
    f.push_back(static_cast<char>(n & 0xff));
  } else {
    f.push_back(static_cast<char>(0x80 | 127));
    for (int i = 7; i >= 0; --i) f.push_back(static_cast<char>((static_cast<uint64_t>(n) >> (8 * i)) & 0xff));
  }
  uint8_t mask[4];
  RAND_bytes(mask, sizeof(mask));
  f.append(reinterpret_cast<const char*>(mask), 4);
  for (size_t i = 0; i < n; ++i) f.push_back(static_cast<char>(static_cast<uint8_t>(payload[i]) ^ mask[i % 4]));
  return f;
}

std::optional<WsFrame> parseFrame(std::string_view in, size_t maxPayload, bool& bad) {
  bad = false;
  if (in.size() < 2) return std::nullopt;
  const auto* p = reinterpret_cast<const uint8_t*>(in.data());
  WsFrame f;
  f.fin = (p[0] & 0x80) != 0;
  f.opcode = p[0] & 0x0f;
  if (p[1] & 0x80) {  // servers never mask
    bad = true;
    return std::nullopt;
  }
  uint64_t len = p[1] & 0x7f;
  size_t header = 2;
  if (len == 126) {
    if (in.size() < 4) return std::nullopt;
    len = (uint64_t{p[2]} << 8) | p[3];
    header = 4;
  } else if (len == 127) {
    if (in.size() < 10) return std::nullopt;
    len = 0;
    for (int i = 0; i < 8; ++i) len = (len << 8) | p[2 + i];
    header = 10;
  }
  if (len > maxPayload) {
    bad = true;
    return std::nullopt;
  }
  if (in.size() < header + len) return std::nullopt;
  f.payload = in.substr(header, static_cast<size_t>(len));
  f.size = header + static_cast<size_t>(len);
  return f;
}

std::optional<HttpAnswer> parseHttpAnswer(std::string_view in, bool& bad) {
  bad = false;
  const size_t end = in.find("\r\n\r\n");
  if (end == std::string_view::npos) {
    bad = in.size() > 16384;
    return std::nullopt;
  }
  const std::string_view head = in.substr(0, end);
  if (head.size() < 12 || head.substr(0, 5) != "HTTP/") {
    bad = true;
    return std::nullopt;
  }
  HttpAnswer a;
  a.status = std::atoi(std::string(head.substr(9, 3)).c_str());
  long long length = -1;
  forEachHeader(head, [&](std::string_view line) {
    if (iequalsPrefix(line, "content-length:")) length = std::atoll(std::string(trim(line.substr(15))).c_str());
  });
  if (length < 0) {
    bad = true;  // the node always sends Content-Length
    return std::nullopt;
  }
  const size_t total = end + 4 + static_cast<size_t>(length);
  if (in.size() < total) return std::nullopt;
  a.body = in.substr(end + 4, static_cast<size_t>(length));
  a.size = total;
  return a;
}

std::string httpRequest(const std::string& method, const Endpoint& server, const std::string& target,
                        const std::string& body) {
  std::string r = method + " " + target + " HTTP/1.1\r\nHost: " + server.toString() + "\r\n";
  if (!body.empty() || method == "POST")
    r += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  r += "\r\n";
  r += body;
  return r;
}

}  // namespace rdv::bench
