#include "signalling/agent/sctp_association.h"

#include <arpa/inet.h>
#include <sys/socket.h>
#include <usrsctp.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <set>

namespace rdv::agent {

namespace {

// SCTP packets ride in DTLS records (overhead up to ~40 bytes with AES-GCM) inside a TURN
// ChannelData frame or Send indication: 1150 keeps the UDP payload under 1280 (the IPv6 minimum).
constexpr uint32_t kPathMtu = 1150;
constexpr uint16_t kStreams = 1024;

// libusrsctp keeps its own list of addresses; an output callback for an association that was
// destroyed meanwhile must not touch it, so the live ones are recorded here.
std::mutex liveMutex;
std::set<SctpAssociation*> live;

int outputCallback(void* addr, void* buffer, size_t length, uint8_t, uint8_t) {
  std::lock_guard lock(liveMutex);
  auto* a = static_cast<SctpAssociation*>(addr);
  if (live.count(a) != 0) a->onOutput(buffer, length);
  return 0;
}

int receiveCallback(struct socket*, union sctp_sockstore, void* data, size_t length, struct sctp_rcvinfo info, int flags,
                    void* ulp) {
  if (data == nullptr) return 1;  // the association went away
  auto* a = static_cast<SctpAssociation*>(ulp);
  {
    std::lock_guard lock(liveMutex);
    if (live.count(a) != 0) a->onReceive(data, length, info.rcv_sid, ntohl(info.rcv_ppid), flags);
  }
  std::free(data);  // libusrsctp hands over a malloc'ed buffer
  return 1;
}

void initOnce() {
  static std::once_flag once;
  std::call_once(once, [] {
    usrsctp_init_nothreads(0, outputCallback, nullptr);
    usrsctp_sysctl_set_sctp_ecn_enable(0);  // WebRTC peers do not do ECN over DTLS
    usrsctp_sysctl_set_sctp_init_rtx_max_default(8);
    usrsctp_sysctl_set_sctp_delayed_sack_time_default(20);
    usrsctp_sysctl_set_sctp_rto_min_default(100);
    usrsctp_sysctl_set_sctp_rto_initial_default(1000);
    usrsctp_sysctl_set_sctp_heartbeat_interval_default(10000);
  });
}

template <typename T>
bool setOption(struct socket* s, int level, int name, const T& value) {
  return usrsctp_setsockopt(s, level, name, &value, sizeof(value)) == 0;
}

std::chrono::steady_clock::time_point lastTimers{};
std::mutex timersMutex;

}  // namespace

Result<std::unique_ptr<SctpAssociation>, std::string> SctpAssociation::create(uint16_t localPort) {
  initOnce();
  std::unique_ptr<SctpAssociation> a(new SctpAssociation());
  a->localPort_ = localPort;
  {
    std::lock_guard lock(liveMutex);
    live.insert(a.get());
  }
  usrsctp_register_address(a.get());
  a->socket_ = usrsctp_socket(AF_CONN, SOCK_STREAM, IPPROTO_SCTP, receiveCallback, nullptr, 0, a.get());
  if (!a->socket_) return unexpected("SCTP socket: " + std::string(std::strerror(errno)));
  auto* s = a->socket_;
  bool ok = usrsctp_set_non_blocking(s, 1) == 0;
  struct linger lingerOff{1, 0};  // close aborts at once (the DTLS path is going away anyway)
  ok = ok && setOption(s, SOL_SOCKET, SO_LINGER, lingerOff);
  struct sctp_assoc_value reset{};
  reset.assoc_id = SCTP_ALL_ASSOC;
  reset.assoc_value = SCTP_ENABLE_RESET_STREAM_REQ;  // channels close by resetting their streams
  ok = ok && setOption(s, IPPROTO_SCTP, SCTP_ENABLE_STREAM_RESET, reset);
  ok = ok && setOption(s, IPPROTO_SCTP, SCTP_RECVRCVINFO, int{1});
  ok = ok && setOption(s, IPPROTO_SCTP, SCTP_NODELAY, int{1});
  for (uint16_t type : {SCTP_ASSOC_CHANGE, SCTP_STREAM_RESET_EVENT}) {
    struct sctp_event ev{};
    ev.se_assoc_id = SCTP_ALL_ASSOC;
    ev.se_type = type;
    ev.se_on = 1;
    ok = ok && setOption(s, IPPROTO_SCTP, SCTP_EVENT, ev);
  }
  struct sctp_initmsg init{};
  init.sinit_num_ostreams = kStreams;
  init.sinit_max_instreams = kStreams;
  ok = ok && setOption(s, IPPROTO_SCTP, SCTP_INITMSG, init);
  struct sctp_paddrparams params{};
  params.spp_address.ss_family = AF_CONN;
  params.spp_flags = SPP_PMTUD_DISABLE;
  params.spp_pathmtu = kPathMtu;
  ok = ok && setOption(s, IPPROTO_SCTP, SCTP_PEER_ADDR_PARAMS, params);
  if (!ok) return unexpected("SCTP socket options: " + std::string(std::strerror(errno)));
  struct sockaddr_conn local{};
  local.sconn_family = AF_CONN;
  local.sconn_port = htons(localPort);
  local.sconn_addr = a.get();
  if (usrsctp_bind(s, reinterpret_cast<struct sockaddr*>(&local), sizeof(local)) != 0)
    return unexpected("SCTP bind: " + std::string(std::strerror(errno)));
  return a;
}

SctpAssociation::~SctpAssociation() {
  {
    std::lock_guard lock(liveMutex);
    live.erase(this);
  }
  if (socket_) {
    usrsctp_set_ulpinfo(socket_, nullptr);
    usrsctp_close(socket_);
  }
  usrsctp_deregister_address(this);
}

void SctpAssociation::connect(uint16_t remotePort) {
  struct sockaddr_conn remote{};
  remote.sconn_family = AF_CONN;
  remote.sconn_port = htons(remotePort);
  remote.sconn_addr = this;
  const int r = usrsctp_connect(socket_, reinterpret_cast<struct sockaddr*>(&remote), sizeof(remote));
  if (r != 0 && errno != EINPROGRESS) {
    closed_ = true;
    closeReason_ = "SCTP connect: " + std::string(std::strerror(errno));
  }
}

void SctpAssociation::handlePacket(ByteSpan packet) {
  if (packet.empty() || closed_) return;
  usrsctp_conninput(this, packet.data(), packet.size(), 0);
}

bool SctpAssociation::send(uint16_t stream, uint32_t ppid, ByteSpan data, bool ordered) {
  if (!established_ || closed_) return false;
  struct sctp_sendv_spa spa{};
  spa.sendv_flags = SCTP_SEND_SNDINFO_VALID;
  spa.sendv_sndinfo.snd_sid = stream;
  spa.sendv_sndinfo.snd_ppid = htonl(ppid);
  spa.sendv_sndinfo.snd_flags = SCTP_EOR | (ordered ? 0 : SCTP_UNORDERED);
  // An empty message cannot be sent: WebRTC sends one zero byte with the "empty" PPID instead.
  static const uint8_t zero = 0;
  const void* bytes = data.empty() ? &zero : data.data();
  const size_t length = data.empty() ? 1 : data.size();
  const ssize_t n = usrsctp_sendv(socket_, bytes, length, nullptr, 0, &spa, sizeof(spa), SCTP_SENDV_SPA, 0);
  return n == static_cast<ssize_t>(length);
}

void SctpAssociation::advanceTimers(std::chrono::steady_clock::time_point now) {
  std::lock_guard lock(timersMutex);
  if (lastTimers == std::chrono::steady_clock::time_point{}) lastTimers = now;
  const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(now - lastTimers).count();
  if (elapsed <= 0) return;
  lastTimers = now;
  usrsctp_handle_timers(static_cast<uint32_t>(elapsed));
}

void SctpAssociation::onOutput(const void* buffer, size_t length) {
  const auto* p = static_cast<const uint8_t*>(buffer);
  outgoing_.emplace_back(p, p + length);
}

void SctpAssociation::onReceive(const void* data, size_t length, uint16_t stream, uint32_t ppid, int flags) {
  if (flags & MSG_NOTIFICATION) return onNotification(data, length);
  const auto* p = static_cast<const uint8_t*>(data);
  auto it = partial_.find(stream);
  if (!(flags & MSG_EOR) || it != partial_.end()) {
    // A piece of a larger message: collect the pieces until the last one (bounded).
    const bool fresh = it == partial_.end();
    Message& m = partial_[stream];
    if (fresh) {
      m.stream = stream;
      m.ppid = ppid;
    }
    // Too long, or too much held over all streams: the message is dropped when it completes.
    if (m.ppid != 0 && m.data.size() + length <= kMaxMessage && partialBytes_ + length <= kMaxPartialBytes) {
      m.data.insert(m.data.end(), p, p + length);
      partialBytes_ += length;
    } else {
      partialBytes_ -= m.data.size();
      m.data.clear();
      m.data.shrink_to_fit();
      m.ppid = 0;
    }
    if (!(flags & MSG_EOR)) return;
    Message done = std::move(m);
    partialBytes_ -= done.data.size();
    partial_.erase(stream);
    if (done.ppid != 0) received_.push_back(std::move(done));
    return;
  }
  if (length > kMaxMessage) return;  // dropped, as a longer message in pieces is
  received_.push_back(Message{stream, ppid, Bytes(p, p + length)});
}

void SctpAssociation::onNotification(const void* data, size_t length) {
  const auto* n = static_cast<const union sctp_notification*>(data);
  if (length < sizeof(n->sn_header)) return;
  if (n->sn_header.sn_type == SCTP_ASSOC_CHANGE && length >= sizeof(struct sctp_assoc_change)) {
    switch (n->sn_assoc_change.sac_state) {
      case SCTP_COMM_UP:
        established_ = true;
        break;
      case SCTP_COMM_LOST:
      case SCTP_SHUTDOWN_COMP:
      case SCTP_CANT_STR_ASSOC:
        if (!closed_) closeReason_ = n->sn_assoc_change.sac_state == SCTP_COMM_LOST ? "the SCTP association was lost"
                                     : n->sn_assoc_change.sac_state == SCTP_SHUTDOWN_COMP ? "the peer shut SCTP down"
                                                                                          : "SCTP could not start";
        closed_ = true;
        break;
      default:
        break;
    }
  } else if (n->sn_header.sn_type == SCTP_STREAM_RESET_EVENT && length >= sizeof(struct sctp_stream_reset_event)) {
    const auto& e = n->sn_strreset_event;
    if (!(e.strreset_flags & SCTP_STREAM_RESET_INCOMING_SSN)) return;
    const size_t count = (std::min<size_t>(e.strreset_length, length) - sizeof(struct sctp_stream_reset_event)) / sizeof(uint16_t);
    for (size_t i = 0; i < count; ++i) resetStreams_.push_back(e.strreset_stream_list[i]);
  }
}

std::vector<Bytes> SctpAssociation::takeOutgoing() {
  std::vector<Bytes> out;
  out.swap(outgoing_);
  return out;
}

std::vector<SctpAssociation::Message> SctpAssociation::takeReceived() {
  std::vector<Message> out;
  out.swap(received_);
  return out;
}

std::vector<uint16_t> SctpAssociation::takeResetStreams() {
  std::vector<uint16_t> out;
  out.swap(resetStreams_);
  return out;
}

std::optional<double> SctpAssociation::srttMs() const {
  if (!established_ || !socket_) return std::nullopt;
  struct sctp_status status{};
  socklen_t size = sizeof(status);
  if (usrsctp_getsockopt(socket_, IPPROTO_SCTP, SCTP_STATUS, &status, &size) != 0) return std::nullopt;
  return static_cast<double>(status.sstat_primary.spinfo_srtt);
}

}  // namespace rdv::agent
