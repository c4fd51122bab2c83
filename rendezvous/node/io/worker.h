// A worker: one thread, one libuv loop, its own SO_REUSEPORT sockets and its own Service (DESIGN
// principle 2). libuv stays inside io/ (worker_impl.h lists the files that implement a worker).
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "rendezvous/node/config.h"
#include "rendezvous/node/io/connection_limits.h"
#include "rendezvous/node/io/service.h"
#include "rendezvous/node/io/stats.h"
#include "rendezvous/node/io/tls.h"
#include "rendezvous/base/address.h"

namespace rdv::node {

class ParkedSockets;

struct WorkerSockets {
  struct Udp {
    int fd;
    Endpoint local;
  };
  struct Stream {
    int fd;
    Endpoint local;
    bool tls;
  };
  std::vector<Udp> udp;
  std::vector<Stream> stream;
};

class Worker {
 public:
  // `metering` may be null; it and `parked` (shared by the daemon's workers) must outlive the Worker.
  // `perSource`: TCP/TLS connections per source, shared by every worker of the node (null: this worker
  // counts alone).
  Worker(unsigned index, const Config& config, ParkedSockets& parked, stun::BindingConfig binding,
         std::shared_ptr<const relay::Config> relayConfig, std::shared_ptr<TlsContext> tls, WorkerSockets sockets,
         MeteringSink* metering = nullptr, std::shared_ptr<ConnectionsPerSource> perSource = nullptr);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Adopts the sockets into a new loop and runs it on a new thread. False (with a log line) on failure.
  bool start();
  // Thread-safe: the loop closes its handles and ends; join() waits for it.
  void requestStop();
  void join();
  // Thread-safe: hands a reload (SIGHUP) to the worker as a message on its loop; the worker's engine
  // and its TLS listeners continue with them (null `tls`: keep the current one). Live allocations and
  // connections stay; new TLS connections get the new certificate.
  void reconfigure(std::shared_ptr<const relay::Config> relayConfig, std::shared_ptr<TlsContext> tls);
  // Thread-safe: runs `task` on the worker's loop with its service and the loop's clock (the admin API's
  // queries and commands, issue 18); what it appends to the outgoing list is sent as after any input. A
  // task posted after stop never runs (its captures are released).
  using Task = std::function<void(Service&, const relay::Now&, std::vector<Outgoing>&)>;
  void post(Task task);
  const NodeStats& stats() const;
  // Read from another thread: values may be a moment old (single writer, the worker).
  const relay::Stats& relayStats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace rdv::node
