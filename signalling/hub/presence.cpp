#include "signalling/hub/presence.h"

namespace rdv::signalling {

namespace {
uint64_t unixMs(TimePoint t) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  return ms < 0 ? 0 : static_cast<uint64_t>(ms);
}
}  // namespace

Presence::Presence(const NodeId& hubId, const PresenceLimits& limits, std::deque<HubCommand>& out,
                   FramingLookup framingOf)
    : hubId_(hubId), limits_(limits), out_(&out), framingOf_(std::move(framingOf)) {}

std::optional<Frame> Presence::eventFrame(const NodeId& id, TimePoint now) {
  PresenceEvent e;
  e.node = id;
  if (online_.contains(id)) {
    e.event = PresenceState::Online;
    e.lastSeenMs = unixMs(now);
  } else if (auto it = lastSeen_.find(id); it != lastSeen_.end()) {
    e.lastSeenMs = it->second;
  }
  if (!signer_) {
    ++stats_.unsigned_;
    return std::nullopt;
  }
  auto sig = signer_(presenceDigest(hubId_, e));
  if (!sig) {
    ++stats_.unsigned_;
    return std::nullopt;
  }
  e.signature = *sig;
  ++stats_.signatures;
  return Frame{PresenceFrame{e}};
}

void Presence::tellWatchers(const NodeId& id, TimePoint now) {
  std::set<ConnId> to;
  if (auto it = watchers_.find(id); it != watchers_.end()) to = it->second;
  if (!namespaceWatchers_.empty() && namespacesOf_) {  // and who watches a namespace it is registered under
    for (const auto& ns : namespacesOf_(id))
      if (auto n = namespaceWatchers_.find(ns); n != namespaceWatchers_.end()) to.insert(n->second.begin(), n->second.end());
  }
  if (to.empty()) return;  // nobody watches: nothing to sign
  auto frame = eventFrame(id, now);
  if (!frame) return;
  EncodedOnce encoded(*frame);  // signed once, encoded once per framing
  for (ConnId w : to) out_->push_back(SendFrame{w, encoded.as(framingOf_(w))});
  stats_.events += to.size();
}

Presence::Watcher& Presence::watcherOf(ConnId conn) {
  auto [it, fresh] = watching_.try_emplace(conn);
  if (fresh) {
    const double burst = static_cast<double>(limits_.watchesPerConnection);
    it->second.newWatches.configure(burst / 60.0, burst);
  }
  return it->second;
}

bool Presence::admitWatch(Watcher& w, TimePoint now) {
  return w.ids.size() + w.namespaces.size() < limits_.watchesPerConnection &&
         w.newWatches.take(1, TokenBucket::nanos(now));
}

void Presence::refuseWatches(ConnId conn, size_t refused, const char* what) {
  stats_.watchRefused += refused;
  out_->push_back(SendFrame{conn, encodeFrameAs(framingOf_(conn), ErrorFrame{
                                      "watch-limit",
                                      std::to_string(refused) + " " + what + " refused: at most " +
                                          std::to_string(limits_.watchesPerConnection) +
                                          " watches per connection, and as many new ones (or namespace events) "
                                          "per minute",
                                      std::nullopt, std::nullopt, std::nullopt})});
}

void Presence::watchNamespace(ConnId conn, const std::string& ns, TimePoint now) {
  Watcher& w = watcherOf(conn);
  if (w.namespaces.contains(ns)) return;
  if (!admitWatch(w, now)) {
    refuseWatches(conn, 1, "namespace watches");
    return;
  }
  w.namespaces.insert(ns);
  namespaceWatchers_[ns].insert(conn);
  ++watchCount_;
  if (!membersOf_) return;
  auto members = membersOf_(ns);
  if (members.size() > kMaxNamespaceMembers) members.resize(kMaxNamespaceMembers);
  size_t unsent = 0;
  for (const auto& id : members) {
    if (!online_.contains(id)) continue;  // opted-out, offline and absent look alike: nothing
    // Each answer costs a signature: it takes from the same budget as a new watch.
    if (!w.newWatches.take(1, TokenBucket::nanos(now))) {
      ++unsent;
      continue;
    }
    if (auto frame = eventFrame(id, now)) {
      out_->push_back(SendFrame{conn, encodeFrameAs(framingOf_(conn), *frame)});
      ++stats_.events;
    }
  }
  if (unsent > 0) refuseWatches(conn, unsent, "namespace online events");
}

void Presence::unwatchNamespace(ConnId conn, const std::string& ns) {
  auto it = watching_.find(conn);
  if (it == watching_.end() || it->second.namespaces.erase(ns) == 0) return;
  --watchCount_;
  if (auto n = namespaceWatchers_.find(ns); n != namespaceWatchers_.end()) {
    n->second.erase(conn);
    if (n->second.empty()) namespaceWatchers_.erase(n);
  }
}

void Presence::online(const NodeId& id, TimePoint now) {
  online_.insert(id);
  tellWatchers(id, now);
}

void Presence::offline(const NodeId& id, TimePoint now) {
  if (online_.erase(id) == 0) return;
  const uint64_t at = unixMs(now);
  lastSeen_[id] = at;
  leftOrder_.emplace_back(id, at);
  forgetOldest();
  tellWatchers(id, now);
}

void Presence::forgetOldest() {
  while (lastSeen_.size() > limits_.maxRemembered && !leftOrder_.empty()) {
    auto [id, at] = leftOrder_.front();
    leftOrder_.pop_front();
    if (auto it = lastSeen_.find(id); it != lastSeen_.end() && it->second == at) lastSeen_.erase(it);
  }
  // Entries superseded by a later disconnect of the same id stay in leftOrder_ until they reach its
  // front; bound them too.
  while (leftOrder_.size() > 2 * limits_.maxRemembered + 64) {
    auto [id, at] = leftOrder_.front();
    leftOrder_.pop_front();
    if (auto it = lastSeen_.find(id); it != lastSeen_.end() && it->second == at) lastSeen_.erase(it);
  }
}

void Presence::watch(ConnId conn, const std::vector<NodeId>& ids, TimePoint now) {
  Watcher& w = watcherOf(conn);
  size_t refused = 0;
  for (const auto& id : ids) {
    if (w.ids.contains(id)) continue;
    if (!admitWatch(w, now)) {
      ++refused;
      continue;
    }
    w.ids.insert(id);
    watchers_[id].insert(conn);
    ++watchCount_;
    if (auto frame = eventFrame(id, now)) {
      out_->push_back(SendFrame{conn, encodeFrameAs(framingOf_(conn), *frame)});
      ++stats_.events;
    }
  }
  if (refused > 0) refuseWatches(conn, refused, "watches");
}

void Presence::unwatch(ConnId conn, const std::vector<NodeId>& ids) {
  auto it = watching_.find(conn);
  if (it == watching_.end()) return;
  for (const auto& id : ids) {
    if (it->second.ids.erase(id) == 0) continue;
    --watchCount_;
    if (auto w = watchers_.find(id); w != watchers_.end()) {
      w->second.erase(conn);
      if (w->second.empty()) watchers_.erase(w);
    }
  }
}

void Presence::dropConnection(ConnId conn) {
  auto it = watching_.find(conn);
  if (it == watching_.end()) return;
  std::vector<NodeId> ids(it->second.ids.begin(), it->second.ids.end());
  unwatch(conn, ids);
  const std::set<std::string> namespaces = it->second.namespaces;
  for (const auto& ns : namespaces) unwatchNamespace(conn, ns);
  watching_.erase(conn);
}

}  // namespace rdv::signalling
