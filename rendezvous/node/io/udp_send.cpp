// The UDP send path: the datagrams of one flush, queued as iovecs (queueUdp), grouped per socket and cut
// into runs (send_plan.h), then sent with one sendmmsg per socket, a run of equal datagrams to one
// destination as one message with UDP GSO (UDP_SEGMENT). A socket whose kernel refuses GSO (EIO: no
// checksum offload on the route; EINVAL) falls back to plain datagrams, and remembers it.
#include <netinet/udp.h>

#include <cerrno>
#include <cstring>

#include "rendezvous/node/io/worker_impl.h"

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103  // linux/udp.h, Linux 4.18
#endif

namespace rdv::node {

namespace {

constexpr size_t kMaxMessagesPerCall = 64;

bool isGsoRefusal(int err) { return err == EIO || err == EINVAL; }

}  // namespace

Worker::Impl::UdpSocket* Worker::Impl::listeningSocket(uint64_t index, const Endpoint& local) const {
  if (index < udp.size() && udp[index]->local == local) return udp[index].get();
  for (const auto& u : udp) {  // RFC 5780 answers from another address or port: a handful of sockets
    if (u->local == local) return u.get();
  }
  return nullptr;
}

void Worker::Impl::queueUdp(int fd, bool* gso, RelaySocket* relay, const Endpoint& to, bool dontFragment,
                            const iovec* iov, uint32_t iovCount) {
  SendState& s = send;
  SendPiece p;
  p.fd = fd;
  p.gso = gso;
  p.relay = relay;
  p.toLen = to.toSockaddr(p.to);
  p.iovFirst = static_cast<uint32_t>(s.iovs.size());
  p.iovCount = iovCount;
  uint32_t size = 0;
  for (uint32_t i = 0; i < iovCount; ++i) {
    s.iovs.push_back(iov[i]);
    size += static_cast<uint32_t>(iov[i].iov_len);
  }
  s.pieces.push_back(p);
  s.items.push_back(SendItem{static_cast<uint32_t>(fd), to, size, relay ? dontFragment : false, *gso});
}

void Worker::Impl::sendQueued() {
  SendState& s = send;
  if (s.items.empty()) return;
  orderBySocket(s.items, s.order);
  planRuns(s.items, s.order, s.runs);
  // Every message's iovecs and control block live in these until sent: no reallocation meanwhile.
  s.msgIovs.clear();
  s.msgIovs.reserve(s.iovs.size());
  s.control.clear();
  s.control.reserve(s.runs.size());
  size_t r = 0;
  while (r < s.runs.size()) {
    const SendPiece& first = s.pieces[s.order[s.runs[r].first]];
    size_t end = r + 1;
    while (end < s.runs.size() && s.pieces[s.order[s.runs[end].first]].fd == first.fd) ++end;
    sendMessages(first.fd, first.relay, first.gso, r, end);
    r = end;
  }
  s.items.clear();
  s.pieces.clear();
  s.iovs.clear();
}

// Runs [firstRun, endRun) all leave from socket `fd`: one sendmmsg per up to kMaxMessagesPerCall
// messages, and between messages that need another DF setting (relay sockets).
void Worker::Impl::sendMessages(int fd, RelaySocket* relay, bool* gso, size_t firstRun, size_t endRun) {
  SendState& s = send;
  std::vector<mmsghdr>& msgs = s.msgs;
  std::vector<uint32_t>& runOf = s.runOf;
  msgs.clear();
  runOf.clear();
  auto sendPending = [&] {
    size_t i = 0;
    while (i < msgs.size()) {
      const int n = ::sendmmsg(fd, msgs.data() + i, static_cast<unsigned>(msgs.size() - i), 0);
      if (n > 0) {
        i += static_cast<size_t>(n);
        continue;
      }
      const int err = errno;
      if (err == EINTR) continue;
      const SendRun& run = s.runs[runOf[i]];
      if (run.count > 1 && isGsoRefusal(err) && *gso) {
        // The kernel refuses GSO on this socket: plain datagrams from now on, this run included.
        *gso = false;
        stats.udpGsoFallbacks.add();
        for (uint32_t k = 0; k < run.count; ++k) {
          const SendPiece& p = s.pieces[s.order[run.first + k]];
          msghdr h{};
          h.msg_name = const_cast<sockaddr_storage*>(&p.to);
          h.msg_namelen = p.toLen;
          h.msg_iov = s.iovs.data() + p.iovFirst;
          h.msg_iovlen = p.iovCount;
          ssize_t sent;
          do sent = ::sendmsg(fd, &h, 0);
          while (sent < 0 && errno == EINTR);
          if (sent < 0) stats.udpSendErrors.add();
        }
      } else {
        stats.udpSendErrors.add(run.count);  // EAGAIN (socket buffer full), unreachable, ...
      }
      ++i;
    }
    msgs.clear();
    runOf.clear();
  };
  for (size_t r = firstRun; r < endRun; ++r) {
    const SendRun& run = s.runs[r];
    const SendPiece& head = s.pieces[s.order[run.first]];
    const bool df = s.items[s.order[run.first]].dontFragment;
    if (relay && relay->dontFragment != df) {
      // DONT-FRAGMENT (RFC 8656 §7.2, §10.2): DF only for the datagrams that asked for it. The setting is
      // per socket; it changes only when the request changes, so this is rarely a syscall.
      sendPending();
      setDontFragment(*relay, df);
    }
    mmsghdr m{};
    m.msg_hdr.msg_name = const_cast<sockaddr_storage*>(&head.to);
    m.msg_hdr.msg_namelen = head.toLen;
    m.msg_hdr.msg_iov = s.msgIovs.data() + s.msgIovs.size();
    size_t iovs = 0;
    for (uint32_t k = 0; k < run.count; ++k) {
      const SendPiece& p = s.pieces[s.order[run.first + k]];
      for (uint32_t j = 0; j < p.iovCount; ++j) s.msgIovs.push_back(s.iovs[p.iovFirst + j]);
      iovs += p.iovCount;
    }
    m.msg_hdr.msg_iovlen = iovs;
    if (run.count > 1) {
      auto& block = s.control.emplace_back();
      block.fill(0);
      auto* cmsg = reinterpret_cast<cmsghdr*>(block.data());
      cmsg->cmsg_level = SOL_UDP;
      cmsg->cmsg_type = UDP_SEGMENT;
      cmsg->cmsg_len = CMSG_LEN(sizeof(uint16_t));
      const auto segment = static_cast<uint16_t>(run.segment);
      std::memcpy(CMSG_DATA(cmsg), &segment, sizeof(segment));
      m.msg_hdr.msg_control = block.data();
      m.msg_hdr.msg_controllen = CMSG_SPACE(sizeof(uint16_t));
    }
    msgs.push_back(m);
    runOf.push_back(static_cast<uint32_t>(r));
    if (msgs.size() == kMaxMessagesPerCall) sendPending();
  }
  sendPending();
}

}  // namespace rdv::node
