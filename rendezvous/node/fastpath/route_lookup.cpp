// RTM_GETROUTE over a NETLINK_ROUTE socket (see route_lookup.h).
#include "rendezvous/node/fastpath/route_lookup.h"

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

namespace rdv::node {

RouteLookup::RouteLookup() { fd_ = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE); }

RouteLookup::~RouteLookup() {
  if (fd_ >= 0) close(fd_);
}

std::optional<uint32_t> RouteLookup::egress(const IpAddress& src, const IpAddress& dst) {
  if (fd_ < 0 || !src.isV4() || !dst.isV4()) return std::nullopt;
  struct {
    nlmsghdr nh;
    rtmsg rt;
    char attrs[2 * RTA_SPACE(4)];
  } req{};
  req.nh.nlmsg_len = NLMSG_LENGTH(sizeof(rtmsg));
  req.nh.nlmsg_type = RTM_GETROUTE;
  req.nh.nlmsg_flags = NLM_F_REQUEST;
  req.nh.nlmsg_seq = ++seq_;
  req.rt.rtm_family = AF_INET;
  req.rt.rtm_dst_len = 32;
  req.rt.rtm_src_len = 32;
  auto add = [&](unsigned short type, const IpAddress& ip) {
    auto* rta = reinterpret_cast<rtattr*>(reinterpret_cast<char*>(&req) + NLMSG_ALIGN(req.nh.nlmsg_len));
    rta->rta_type = type;
    rta->rta_len = RTA_LENGTH(4);
    std::memcpy(RTA_DATA(rta), ip.data(), 4);
    req.nh.nlmsg_len = NLMSG_ALIGN(req.nh.nlmsg_len) + RTA_SPACE(4);
  };
  add(RTA_DST, dst);
  add(RTA_SRC, src);
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  if (sendto(fd_, &req, req.nh.nlmsg_len, 0, reinterpret_cast<sockaddr*>(&kernel), sizeof(kernel)) < 0)
    return std::nullopt;

  alignas(nlmsghdr) char buf[4096];
  for (;;) {
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, 1000) != 1) return std::nullopt;
    ssize_t n = recv(fd_, buf, sizeof(buf), 0);
    if (n <= 0) return std::nullopt;
    auto len = static_cast<unsigned>(n);
    for (auto* nh = reinterpret_cast<nlmsghdr*>(buf); NLMSG_OK(nh, len); nh = NLMSG_NEXT(nh, len)) {
      if (nh->nlmsg_seq != seq_) continue;  // an answer to an earlier, timed-out question
      if (nh->nlmsg_type == NLMSG_ERROR || nh->nlmsg_type != RTM_NEWROUTE) return std::nullopt;
      auto* rt = static_cast<rtmsg*>(NLMSG_DATA(nh));
      if (rt->rtm_type == RTN_LOCAL) return 0u;
      if (rt->rtm_type != RTN_UNICAST) return std::nullopt;
      int attrLen = static_cast<int>(RTM_PAYLOAD(nh));
      for (auto* rta = RTM_RTA(rt); RTA_OK(rta, attrLen); rta = RTA_NEXT(rta, attrLen)) {
        if (rta->rta_type == RTA_OIF && RTA_PAYLOAD(rta) >= 4) {
          uint32_t oif;
          std::memcpy(&oif, RTA_DATA(rta), 4);
          return oif;
        }
      }
      return std::nullopt;
    }
  }
}

}  // namespace rdv::node
