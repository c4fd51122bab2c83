#include "rendezvous/node/daemon.h"

// The daemon's kernel fast path set-up (issue 14, docs/turn.md "Kernel fast path"): which devices, which
// filter instance, and what `kernel-fast-path = auto | on` do when the kernel says no.

#include <ifaddrs.h>
#include <net/if.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <future>

#include "rendezvous/node/data_dir.h"
#include "rendezvous/node/fastpath/kernel_channels.h"
#include "rendezvous/node/log.h"

namespace rdv::node {

namespace {

// The devices carrying any of `addresses` (IPv4), from getifaddrs.
std::vector<std::string> devicesOf(const std::vector<IpAddress>& addresses) {
  std::vector<std::string> out;
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return out;
  for (ifaddrs* i = list; i != nullptr; i = i->ifa_next) {
    if (i->ifa_addr == nullptr || i->ifa_addr->sa_family != AF_INET) continue;
    auto ep = Endpoint::fromSockaddr(i->ifa_addr);
    if (!ep || std::find(addresses.begin(), addresses.end(), ep->ip()) == addresses.end()) continue;
    if (std::find(out.begin(), out.end(), i->ifa_name) == out.end()) out.emplace_back(i->ifa_name);
  }
  freeifaddrs(list);
  return out;
}

}  // namespace

std::optional<std::string> Daemon::startFastPath(const relay::Config& relay) {
  if (config_.kernelFastPath == "off") return std::nullopt;
  const bool required = config_.kernelFastPath == "on";
  auto unavailable = [&](const std::string& reason) -> std::optional<std::string> {
    if (required) return "kernel-fast-path on: " + reason;
    logEvent(Level::Warn, "kernel-fast-path-unavailable", {{"reason", reason}, {"using", "user space"}});
    return std::nullopt;
  };
  const IpAddress any4 = IpAddress::v4(0u);
  if (!relay.relayV4 || relay.relayV4->local == any4)
    return unavailable("needs a specific IPv4 relay address (relay-address or a specific listen address)");
  std::vector<IpAddress> addresses{relay.relayV4->local};
  for (const auto& ep : bound_.udp)
    if (ep.ip().isV4() && ep.ip() != any4) addresses.push_back(ep.ip());
  FastPath::Options options;
  options.interfaces = config_.kernelFastPathInterfaces.empty() ? devicesOf(addresses) : config_.kernelFastPathInterfaces;
  if (options.interfaces.empty()) return unavailable("no network device carries the listen or relay addresses");
  // Sized for every channel a full relay range could bind (several per allocation), within reason.
  const uint32_t ports = relay.relayPorts.size();
  options.maxBindings = std::clamp<uint32_t>(ports * 4u, 1024u, 262144u);
  options.maxAllocations = options.maxBindings;
  options.instance = static_cast<uint16_t>(std::hash<std::string>{}(dataDirOf(config_)) & 0x3FFFu);
  auto opened = FastPath::open(options);
  if (!opened) return unavailable(opened.error());
  std::shared_ptr<FastPath> fastPath(std::move(*opened));
  for (const auto& ep : bound_.udp)
    if (ep.ip().isV4()) fastPath->watchPort(ep.port(), true);
  kernel_ = std::make_shared<KernelChannels>(fastPath, relay.relayV4->local, options.maxAllocations);
  std::string devices;
  for (const auto& d : options.interfaces) devices += (devices.empty() ? "" : ",") + d;
  logEvent(Level::Info, "kernel-fast-path", {{"devices", devices}, {"channels", options.maxBindings},
                                             {"instance", options.instance},
                                             {"orphans_removed", fastPath->orphansRemoved()}});
  return std::nullopt;
}

std::string Daemon::fastPathMetrics() const {
  const FastPathStats k = kernel_ ? kernel_->stats() : FastPathStats{};
  const size_t channels = kernel_ ? kernel_->channels() : 0;
  std::string out;
  auto family = [&](const char* name, const char* type, const char* help) {
    out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
  };
  auto sample = [&](const char* name, const char* labels, uint64_t value) {
    out += std::string(name) + labels + " " + std::to_string(value) + "\n";
  };
  family("rendezvous_relay_fastpath_packets_total", "counter",
         "ChannelData datagrams the kernel fast path forwarded, by direction (kernel-fast-path)");
  sample("rendezvous_relay_fastpath_packets_total", "{direction=\"to_peer\"}", k.toPeerPackets);
  sample("rendezvous_relay_fastpath_packets_total", "{direction=\"to_client\"}", k.toClientPackets);
  family("rendezvous_relay_fastpath_bytes_total", "counter",
         "payload bytes the kernel fast path forwarded, by direction (as the relayed bytes counters count them)");
  sample("rendezvous_relay_fastpath_bytes_total", "{direction=\"to_peer\"}", k.toPeerBytes);
  sample("rendezvous_relay_fastpath_bytes_total", "{direction=\"to_client\"}", k.toClientBytes);
  family("rendezvous_relay_fastpath_passed_total", "counter",
         "datagrams to a watched port the kernel passed to user space (STUN, unknown channels, padding, GSO)");
  sample("rendezvous_relay_fastpath_passed_total", "", k.passed);
  family("rendezvous_relay_fastpath_over_allowance_total", "counter",
         "datagrams the kernel passed to user space because they would exceed the allowance user space gave");
  sample("rendezvous_relay_fastpath_over_allowance_total", "", k.overBudget);
  family("rendezvous_relay_fastpath_redirect_failures_total", "counter",
         "forwarded datagrams the kernel could not send out of their device (no neighbour, device down)");
  sample("rendezvous_relay_fastpath_redirect_failures_total", "", k.redirectFailed);
  family("rendezvous_relay_fastpath_channels", "gauge", "channels whose ChannelData the kernel forwards now");
  sample("rendezvous_relay_fastpath_channels", "", channels);
  return out;
}

void Daemon::refreshKernelAllowances() {
  if (!kernel_) return;
  std::vector<std::future<void>> done;
  for (auto& w : workers_) {
    auto promise = std::make_shared<std::promise<void>>();
    done.push_back(promise->get_future());
    w->post([promise](Service& s, const relay::Now& now, std::vector<Outgoing>& out) {
      s.kernelRefresh(now, out);
      promise->set_value();
    });
  }
  // Bounded: a stopping worker drops its task (the promise breaks) and the next tick tries again.
  for (auto& f : done) f.wait_for(std::chrono::seconds(2));
}

}  // namespace rdv::node
