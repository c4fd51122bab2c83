#include "rendezvous/node/io/worker.h"

#include "rendezvous/node/io/worker_impl.h"
#include "rendezvous/node/io/sockets.h"
#include "rendezvous/node/log.h"

namespace rdv::node {

bool Worker::Impl::open() {
  if (int r = uv_loop_init(&loop); r != 0) {
    logEvent(Level::Error, "worker-start-failed", {{"worker", index}, {"reason", uv_strerror(r)}});
    return false;
  }
  loopInitialised = true;
  loop.data = this;
  uv_async_init(&loop, &stopAsync, [](uv_async_t* a) { static_cast<Impl*>(a->loop->data)->shutdown(); });
  uv_async_init(&loop, &reloadAsync, [](uv_async_t* a) { static_cast<Impl*>(a->loop->data)->applyReload(); });
  uv_timer_init(&loop, &tick);
  uv_update_time(&loop);
  unixOffsetMs = static_cast<int64_t>(uv_now(&loop));
  {
    uv_timeval64_t tv;
    uv_gettimeofday(&tv);
    unixOffsetMs = tv.tv_sec * 1000 + tv.tv_usec / 1000 - unixOffsetMs;
  }
  nextIdleSweepMs = uv_now(&loop) + 1000;
  armTimer();

  {
    const relay::PortRange range = config.relayPorts;
    if (range.max >= range.min) relayByPort.assign(2 * (size_t{range.max} - range.min + 1), nullptr);
  }
  for (const auto& s : sockets.udp) {
    auto sock = std::make_unique<UdpSocket>();
    sock->local = s.local;
    sock->owner = this;
    sock->fd = s.fd;
    sock->index = static_cast<uint32_t>(udp.size());
    if (int r = uv_poll_init_socket(&loop, &sock->poll, s.fd); r != 0) {
      logEvent(Level::Error, "udp-open-failed", {{"address", s.local.toString()}, {"reason", uv_strerror(r)}});
      closeSocket(s.fd);
      return false;
    }
    sock->poll.data = sock.get();
    uv_poll_start(&sock->poll, UV_READABLE, [](uv_poll_t* p, int status, int) {
      auto* u = static_cast<UdpSocket*>(p->data);
      if (status == 0) u->owner->onReadable(*u);
    });
    udp.push_back(std::move(sock));
  }

  for (const auto& s : sockets.stream) {
    auto l = std::make_unique<Listener>();
    l->local = s.local;
    l->tls = s.tls;
    l->owner = this;
    uv_tcp_init(&loop, &l->handle);
    l->handle.data = l.get();
    int r = uv_tcp_open(&l->handle, s.fd);
    if (r == 0)
      r = uv_listen(reinterpret_cast<uv_stream_t*>(&l->handle), 1024, [](uv_stream_t* server, int status) {
        if (status == 0) {
          auto* listener = static_cast<Listener*>(server->data);
          listener->owner->onConnection(*listener);
        }
      });
    if (r != 0) {
      logEvent(Level::Error, "tcp-listen-failed", {{"address", s.local.toString()}, {"reason", uv_strerror(r)}});
      uv_close(reinterpret_cast<uv_handle_t*>(&l->handle), nullptr);
      listeners.push_back(std::move(l));
      return false;
    }
    listeners.push_back(std::move(l));
  }
  return true;
}

void Worker::Impl::shutdown() {
  // Every allocation ends as "shutdown" first, so metering is exact on SIGTERM (issue 7); its relay
  // sockets are released by the flush.
  if (loopInitialised && !uv_is_closing(reinterpret_cast<uv_handle_t*>(&tick))) {
    service.endAll(now(), out);
    flush();
  }
  auto closeHandle = [](auto* h) {
    auto* handle = reinterpret_cast<uv_handle_t*>(h);
    if (!uv_is_closing(handle)) uv_close(handle, nullptr);
  };
  for (auto& s : udp) {
    auto* handle = reinterpret_cast<uv_handle_t*>(&s->poll);
    if (uv_is_closing(handle)) continue;
    uv_close(handle, [](uv_handle_t* h) {  // the descriptor closes once libuv stopped polling it
      auto* u = static_cast<UdpSocket*>(h->data);
      closeSocket(u->fd);
      u->fd = -1;
    });
  }
  for (auto& l : listeners) closeHandle(&l->handle);
  std::vector<Connection*> open;
  for (auto& [id, c] : connections) open.push_back(c);
  for (auto* c : open) closeConnection(*c);
  std::vector<relay::RelayPort> relays;
  for (auto& [port, sock] : relaySockets) relays.push_back(port);
  for (auto port : relays) releaseRelay(port);
  closePrebound();
  closeRelayEpoll();
  closeHandle(&tick);
  closeHandle(&stopAsync);
  closeHandle(&reloadAsync);
  std::lock_guard lock(pendingMutex);
  tasks.clear();  // never run: their waiters see a broken promise, not a hang
}

// On the worker's loop: the engine and the TLS listeners take the reloaded settings; nothing open closes.
void Worker::Impl::applyReload() {
  std::optional<PendingReload> next;
  std::vector<Worker::Task> due;
  {
    std::lock_guard lock(pendingMutex);
    next.swap(pending);
    due.swap(tasks);
  }
  if (next && next->relay) service.reconfigure(std::move(next->relay));
  if (next && next->tls) tlsContext = std::move(next->tls);
  if (due.empty()) {
    armTimer();
    return;
  }
  const relay::Now at = now();
  for (auto& task : due) task(service, at, out);
  flush();  // re-arms the timer
}

relay::Now Worker::Impl::now() {
  const uint64_t ms = uv_now(&loop);
  return relay::Now{relay::Instant(std::chrono::milliseconds(ms)),
                    (static_cast<int64_t>(ms) + unixOffsetMs) / 1000};
}

// One timer per worker (STYLE 3): re-armed only when the engine's next deadline moves earlier, so the
// per-packet path does no timer work in the common case.
void Worker::Impl::armTimer() {
  if (uv_is_closing(reinterpret_cast<uv_handle_t*>(&tick))) return;
  const uint64_t nowMs = uv_now(&loop);
  uint64_t due = nextIdleSweepMs;
  if (auto d = service.nextDeadline()) {
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(d->time_since_epoch()).count();
    due = std::min<uint64_t>(due, ms < 0 ? 0 : static_cast<uint64_t>(ms));
  }
  if (due >= armedAtMs) return;
  armedAtMs = due;
  uv_timer_start(&tick, [](uv_timer_t* t) { static_cast<Impl*>(t->loop->data)->onTick(); },
                 due > nowMs ? due - nowMs : 0, 0);
}

void Worker::Impl::onTick() {
  armedAtMs = UINT64_MAX;
  const uint64_t nowMs = uv_now(&loop);
  if (nowMs >= nextIdleSweepMs) {
    nextIdleSweepMs = nowMs + 1000;
    const uint64_t idleMs = uint64_t{config.tcpIdleTimeoutSeconds} * 1000;
    const uint64_t firstFrameMs = uint64_t{config.tcpFirstFrameTimeoutSeconds} * 1000;
    std::vector<Connection*> idle, silent;
    for (auto& [id, c] : connections) {
      if (!c->gotFrame && nowMs - c->acceptedMs > firstFrameMs) silent.push_back(c);  // handshake or first frame late
      else if (nowMs - c->lastFrameMs > idleMs) idle.push_back(c);  // no complete frame for a while
    }
    for (auto* c : silent) {
      stats.tcpFirstFrameClosed.add();
      closeConnection(*c);
    }
    for (auto* c : idle) {
      stats.tcpIdleClosed.add();
      closeConnection(*c);
    }
  }
  service.onTimeout(now(), out);
  flush();  // re-arms the timer
}

Worker::Worker(unsigned index, const Config& config, ParkedSockets& parked, stun::BindingConfig binding,
               std::shared_ptr<const relay::Config> relayConfig, std::shared_ptr<TlsContext> tls, WorkerSockets sockets,
               MeteringSink* metering, std::shared_ptr<ConnectionsPerSource> perSource)
    : impl_(std::make_unique<Impl>(index, config, parked, std::move(binding), std::move(relayConfig), std::move(tls),
                                   std::move(sockets), metering, std::move(perSource))) {}

Worker::~Worker() {
  requestStop();
  join();
  if (impl_->loopInitialised) {
    uv_run(&impl_->loop, UV_RUN_DEFAULT);  // let close callbacks of a failed start finish
    uv_loop_close(&impl_->loop);
  }
}

bool Worker::start() {
  if (!impl_->open()) {
    impl_->shutdown();
    return false;
  }
  impl_->thread = std::thread([impl = impl_.get()] { uv_run(&impl->loop, UV_RUN_DEFAULT); });
  return true;
}

void Worker::requestStop() {
  // Called from the owning (main) thread only; the async handle lives until the loop handles the stop.
  if (impl_->thread.joinable() && !impl_->stopSent.exchange(true)) uv_async_send(&impl_->stopAsync);
}

void Worker::join() {
  if (impl_->thread.joinable()) impl_->thread.join();
}

void Worker::reconfigure(std::shared_ptr<const relay::Config> relayConfig, std::shared_ptr<TlsContext> tls) {
  {
    std::lock_guard lock(impl_->pendingMutex);
    // A reload not yet applied is replaced, keeping its certificate when this one brings none.
    if (!tls && impl_->pending) tls = std::move(impl_->pending->tls);
    impl_->pending = Impl::PendingReload{std::move(relayConfig), std::move(tls)};
  }
  if (impl_->thread.joinable() && !impl_->stopSent) uv_async_send(&impl_->reloadAsync);
}

void Worker::post(Task task) {
  {
    std::lock_guard lock(impl_->pendingMutex);
    if (impl_->stopSent) return;
    impl_->tasks.push_back(std::move(task));
  }
  if (impl_->thread.joinable()) uv_async_send(&impl_->reloadAsync);
}

const NodeStats& Worker::stats() const { return impl_->stats; }
const relay::Stats& Worker::relayStats() const { return impl_->service.relayStats(); }

}  // namespace rdv::node
