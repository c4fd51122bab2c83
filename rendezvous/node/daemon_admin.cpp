#include "rendezvous/node/daemon.h"

// The admin API's session control (issue 18, node/api/admin_api.h): its routes reach the workers'
// engines by messages on their loops (Worker::post) and wait for the answers with a deadline, so the
// engines stay single-threaded.

#include <uv.h>

#include <chrono>
#include <ctime>
#include <future>

#include "rendezvous/node/api/admin_api.h"
#include "rendezvous/node/data_dir.h"
#include "rendezvous/node/log.h"

namespace rdv::node {

namespace {

constexpr auto kWorkerAnswerDeadline = std::chrono::seconds(2);

// A worker's answer, or nullopt when it did not come in time (or the worker is stopping).
template <class T>
std::optional<T> await(std::future<T>& f) {
  if (f.wait_for(kWorkerAnswerDeadline) != std::future_status::ready) return std::nullopt;
  try {
    return f.get();
  } catch (const std::future_error&) {  // the task was dropped: the worker is stopping
    return std::nullopt;
  }
}

}  // namespace

// Called at start whether or not the admin listener runs: stored bans apply from the first Allocate.
std::optional<std::string> Daemon::startAdminApi() {
  AdminHooks hooks;
  hooks.allocations = [this] {
    std::vector<std::future<std::vector<relay::AllocationInfo>>> answers;
    for (auto& w : workers_) {
      auto promise = std::make_shared<std::promise<std::vector<relay::AllocationInfo>>>();
      answers.push_back(promise->get_future());
      w->post([promise](Service& s, const relay::Now&, std::vector<Outgoing>&) { promise->set_value(s.allocations()); });
    }
    std::vector<relay::AllocationInfo> all;
    for (auto& f : answers)
      if (auto part = await(f)) all.insert(all.end(), part->begin(), part->end());
    return all;
  };
  hooks.endAllocation = [this](uint64_t id) {
    // Worker w numbers its allocations from (w << 48) + 1 (Daemon::start): the id names its worker.
    const uint64_t w = id >> 48;
    if (w >= workers_.size()) return false;
    auto promise = std::make_shared<std::promise<bool>>();
    auto answer = promise->get_future();
    workers_[w]->post([promise, id](Service& s, const relay::Now& now, std::vector<Outgoing>& out) {
      promise->set_value(s.endAllocation(id, now, out));
    });
    return await(answer).value_or(false);
  };
  hooks.unixNow = [] { return static_cast<int64_t>(std::time(nullptr)); };
  // The workers' clock is libuv's (uv_hrtime in milliseconds, as uv_now): the same epoch in every loop.
  hooks.monoSeconds = [] { return static_cast<double>(uv_hrtime() / 1'000'000) / 1000.0; };
  hooks.relayAddress = [rc = relayBase_](const relay::RelayPort& p) {
    const auto& ra = rc ? rc->relayFor(p.family) : std::nullopt;
    return ra ? Endpoint(ra->advertised(), p.port).toString() : std::to_string(p.port);
  };
  hooks.alternate = [this] { return config_.alternateServer ? config_.alternateServer->toString() : std::string(); };
  auto api = AdminApi::open(databasePathOf(config_), admission_, std::move(hooks));
  if (!api) return api.error();
  adminApi_ = std::move(*api);
  if (const auto bans = admission_->bans(); !bans->empty()) logEvent(Level::Info, "bans-loaded", {{"bans", bans->size()}});
  return std::nullopt;
}

}  // namespace rdv::node
