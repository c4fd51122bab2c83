#include "rendezvous/storage/ledger_book.h"

#include <algorithm>
#include <chrono>
#include <cstdio>

namespace rdv::storage {

namespace {

constexpr int64_t kDay = 86400;
constexpr int64_t kHour = 3600;

uint64_t minus(uint64_t total, uint64_t booked) { return total > booked ? total - booked : 0; }

}  // namespace

std::string utcDay(int64_t unixSeconds) {
  using namespace std::chrono;
  const sys_days day{days{floorTo(unixSeconds, kDay) / kDay}};
  const year_month_day ymd{day};
  char text[16];
  std::snprintf(text, sizeof text, "%04d-%02u-%02u", static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                static_cast<unsigned>(ymd.day()));
  return text;
}

std::optional<int64_t> parseUtcDay(const std::string& text) {
  using namespace std::chrono;
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9})
    if (text[i] < '0' || text[i] > '9') return std::nullopt;
  const int y = std::stoi(text.substr(0, 4));
  const unsigned m = static_cast<unsigned>(std::stoi(text.substr(5, 2)));
  const unsigned d = static_cast<unsigned>(std::stoi(text.substr(8, 2)));
  const year_month_day ymd{year{y}, month{m}, day{d}};
  if (!ymd.ok()) return std::nullopt;
  return static_cast<int64_t>(sys_days{ymd}.time_since_epoch().count()) * kDay;
}

void LedgerBatch::merge(LedgerBatch&& later) {
  for (auto& [id, row] : later.allocations) allocations[id] = std::move(row);
  for (auto& [key, t] : later.days) {
    auto& d = days[key];
    d.counters += t.counters;
    d.allocations += t.allocations;
    d.allocationSeconds += t.allocationSeconds;
  }
  for (auto& [hour, t] : later.hours) {
    auto& h = hours[hour];
    h.counters += t.counters;
    h.allocationSeconds += t.allocationSeconds;
  }
  for (auto& [key, n] : later.sessions) sessions[key] += n;
  flushedUnix = std::max(flushedUnix, later.flushedUnix);
  nextRowId = std::max(nextRowId, later.nextRowId);
}

LedgerCounters LedgerBatch::bookedCounters() const {
  LedgerCounters sum;
  for (const auto& [key, t] : days) sum += t.counters;
  return sum;
}

void LedgerBook::apply(const LedgerEvent& event) {
  std::visit(
      [this](const auto& e) {
        using T = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<T, LedgerAllocationStarted>) {
          if (!live_.contains(e.facts.runId)) start(e.facts);
        } else if constexpr (std::is_same_v<T, LedgerAllocationUsage>) {
          auto it = live_.find(e.runId);
          if (it == live_.end()) {
            ++orphanUsage_;
            book(e.identity, e.quotaClass, e.delta, e.unixSeconds);
            return;
          }
          Live& l = it->second;
          if (!e.quotaClass.empty() && e.quotaClass != l.names->quotaClass) {  // a reload may move it
            Names moved = *l.names;
            moved.quotaClass = e.quotaClass;
            const Names* before = l.names;
            l.names = intern(std::move(moved));
            release(before);
          }
          l.booked += e.delta;
          book(l.names->identity, l.names->quotaClass, e.delta, e.unixSeconds);
          touch(l);
        } else if constexpr (std::is_same_v<T, LedgerAllocationEnded>) {
          auto it = live_.find(e.facts.runId);
          Live& l = it != live_.end() ? it->second : start(e.facts);
          const LedgerCounters rest{.bytesToPeer = minus(e.totals.bytesToPeer, l.booked.bytesToPeer),
                                    .bytesToClient = minus(e.totals.bytesToClient, l.booked.bytesToClient),
                                    .packetsToPeer = minus(e.totals.packetsToPeer, l.booked.packetsToPeer),
                                    .packetsToClient = minus(e.totals.packetsToClient, l.booked.packetsToClient)};
          l.booked += rest;
          book(l.names->identity, l.names->quotaClass, rest, e.endedUnix);
          accrue(l, std::max(e.endedUnix, l.startedUnix));
          LedgerAllocationRow row{l.rowId, factsOf(e.facts.runId, l), l.booked, e.peers,
                                  std::max(e.endedUnix, l.startedUnix), e.reason};
          pending_.allocations[l.rowId] = std::move(row);
          endedByReason_[e.reason] += 1;
          release(l.names);
          live_.erase(e.facts.runId);
          if (live_.empty()) {  // every record is back in the pool: return the pool's memory too
            live_ = std::pmr::unordered_map<uint64_t, Live>(&livePool_);
            livePool_.release();
          }
        } else {
          pending_.sessions[{utcDay(e.unixSeconds), e.path, e.local, e.remote}] += 1;
        }
      },
      event);
}

LedgerBook::Live& LedgerBook::start(const LedgerAllocationFacts& facts) {
  Live& l = live_[facts.runId];
  l.rowId = nextRowId_++;
  l.names = intern(Names{facts.identity, facts.username, facts.quotaClass, facts.transport});
  l.client = facts.client;
  l.relay = facts.relay;
  l.startedUnix = facts.startedUnix;
  l.accruedTo = facts.startedUnix;
  pending_.days[{utcDay(facts.startedUnix), facts.identity, facts.quotaClass}].allocations += 1;
  touch(l);
  return l;
}

// The live allocation's row is built when the batch is taken, not here: a copy per event would sit
// between the long-lived Live records of a burst and leave holes the allocator cannot give back.
void LedgerBook::touch(Live& l) { l.dirty = true; }

const LedgerBook::Names* LedgerBook::intern(Names names) {
  auto [it, added] = names_.try_emplace(std::move(names), 0);
  ++it->second;
  return &it->first;
}

void LedgerBook::release(const Names* names) {
  const auto it = names_.find(*names);
  if (it != names_.end() && --it->second == 0) names_.erase(it);
}

LedgerAllocationFacts LedgerBook::factsOf(uint64_t runId, const Live& l) {
  return {runId,        l.names->identity, l.names->username, l.names->quotaClass, l.names->transport,
          l.client.str(), l.relay.str(),     l.startedUnix};
}

void LedgerBook::book(const std::string& identity, const std::string& quotaClass, const LedgerCounters& delta,
                      int64_t unix) {
  if (delta.empty()) return;
  pending_.days[{utcDay(unix), identity, quotaClass}].counters += delta;
  pending_.hours[floorTo(unix, kHour)].counters += delta;
}

// Books [accruedTo, toUnix) as allocation seconds, cut at every hour boundary (days are whole hours).
void LedgerBook::accrue(Live& l, int64_t toUnix) {
  while (l.accruedTo < toUnix) {
    const int64_t hour = floorTo(l.accruedTo, kHour);
    const int64_t upto = std::min(toUnix, hour + kHour);
    const auto seconds = static_cast<uint64_t>(upto - l.accruedTo);
    pending_.hours[hour].allocationSeconds += seconds;
    pending_.days[{utcDay(l.accruedTo), l.names->identity, l.names->quotaClass}].allocationSeconds += seconds;
    l.accruedTo = upto;
  }
}

LedgerBatch LedgerBook::takeBatch(int64_t nowUnix) {
  for (auto& [id, l] : live_) {
    if (l.accruedTo < nowUnix) accrue(l, nowUnix);
    if (!l.dirty) continue;
    pending_.allocations[l.rowId] = LedgerAllocationRow{l.rowId, factsOf(id, l), l.booked, 0, std::nullopt, {}};
    l.dirty = false;
  }
  LedgerBatch out = std::move(pending_);
  pending_ = LedgerBatch{};
  out.flushedUnix = nowUnix;
  out.nextRowId = nextRowId_;
  return out;
}

void LedgerBook::restore(LedgerBatch&& failed) {
  LedgerBatch newer = std::move(pending_);
  pending_ = std::move(failed);
  pending_.merge(std::move(newer));
}

std::map<std::string, uint64_t> LedgerBook::activeByClass() const {
  std::map<std::string, uint64_t> out;
  for (const auto& [id, l] : live_) out[l.names->quotaClass] += 1;
  return out;
}

}  // namespace rdv::storage
