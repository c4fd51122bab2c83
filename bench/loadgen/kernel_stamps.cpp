#include "bench/loadgen/kernel_stamps.h"

#include <linux/errqueue.h>
#include <linux/net_tstamp.h>
#include <netinet/in.h>
#include <sys/uio.h>

#include <cerrno>
#include <cstring>
#include <ctime>

namespace rdv::bench {
namespace {

// SO_TIMESTAMPING's control message carries three timestamps; [0] is the software one.
int64_t softwareStamp(msghdr& m, bool requireTx) {
  int64_t stamp = 0;
  bool tx = !requireTx;
  for (cmsghdr* c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_TIMESTAMPING &&
        c->cmsg_len >= CMSG_LEN(sizeof(scm_timestamping))) {
      scm_timestamping ts{};
      std::memcpy(&ts, CMSG_DATA(c), sizeof(ts));
      stamp = int64_t{ts.ts[0].tv_sec} * 1'000'000'000 + ts.ts[0].tv_nsec;
    } else if ((c->cmsg_level == SOL_IP && c->cmsg_type == IP_RECVERR) ||
               (c->cmsg_level == SOL_IPV6 && c->cmsg_type == IPV6_RECVERR)) {
      sock_extended_err err{};
      std::memcpy(&err, CMSG_DATA(c), sizeof(err));
      tx = tx || (err.ee_origin == SO_EE_ORIGIN_TIMESTAMPING && err.ee_info == SCM_TSTAMP_SND);
    }
  }
  return tx ? stamp : 0;
}

bool receive(int fd, uint8_t* buf, size_t size, StampedDatagram& out, int flags) {
  alignas(cmsghdr) char control[256];
  iovec iov{buf, size};
  msghdr m{};
  m.msg_name = &out.from;
  m.msg_namelen = sizeof(out.from);
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  m.msg_control = control;
  m.msg_controllen = sizeof(control);
  const ssize_t n = recvmsg(fd, &m, flags | MSG_DONTWAIT);
  if (n < 0) return false;
  out.length = static_cast<unsigned>(n);
  out.stampNs = softwareStamp(m, (flags & MSG_ERRQUEUE) != 0);
  return true;
}

}  // namespace

bool enableKernelTimestamps(int fd, std::string& error) {
  const int flags = SOF_TIMESTAMPING_TX_SOFTWARE | SOF_TIMESTAMPING_RX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE;
  if (setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPING, &flags, sizeof(flags)) != 0) {
    error = std::string("SO_TIMESTAMPING: ") + std::strerror(errno);
    return false;
  }
  return true;
}

bool receiveStamped(int fd, uint8_t* buf, size_t size, StampedDatagram& out) {
  return receive(fd, buf, size, out, 0);
}

bool receiveTxStamp(int fd, uint8_t* buf, size_t size, StampedDatagram& out) {
  return receive(fd, buf, size, out, MSG_ERRQUEUE);
}

}  // namespace rdv::bench
