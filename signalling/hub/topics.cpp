#include "signalling/hub/topics.h"

#include <algorithm>

namespace rdv::signalling {

Topics::Topics(const TopicLimits& limits, std::deque<HubCommand>& out, FramingLookup framingOf)
    : limits_(limits), out_(&out), framingOf_(std::move(framingOf)) {}

void Topics::send(ConnId conn, const Frame& f) { out_->push_back(SendFrame{conn, encodeFrameAs(framingOf_(conn), f)}); }

void Topics::refuse(ConnId conn, std::string code, std::string message, const std::string& topic,
                    std::optional<uint64_t> seq) {
  send(conn, ErrorFrame{std::move(code), std::move(message), std::nullopt, seq, topic});
}

bool Topics::mayAccess(const std::string& name, const Topic* topic, const NodeId& who) const {
  auto owner = topicOwner(name);
  if (!owner) return true;  // an open topic
  if (who == *owner) return true;
  return topic != nullptr && topic->allowed.contains(who);
}

Topics::Topic* Topics::findOrCreate(const std::string& name) {
  if (auto it = topics_.find(name); it != topics_.end()) return &it->second;
  if (topics_.size() >= limits_.maxTopics) {
    // Make room from the oldest topic that only retains messages (no subscriber, no members record):
    // topics nobody reads cannot crowd out the ones in use.
    for (size_t i = 0; i < retainedOrder_.size() && i < 64; ++i) {
      const auto& ref = retainedOrder_[i];
      auto it = topics_.find(ref.topic);
      if (it == topics_.end() || !it->second.subscribers.empty() || it->second.members) continue;
      for (const auto& r : it->second.history) {
        historyBytes_ -= r.bytes();
        --retainedCount_;
        ++stats_.historyEvicted;
      }
      topics_.erase(it);
      break;
    }
    if (topics_.size() >= limits_.maxTopics) return nullptr;
  }
  Topic& t = topics_[name];
  t.bucket.configure(limits_.topicPerSecond, limits_.topicBurst);
  return &t;
}

void Topics::eraseIfIdle(const std::string& name) {
  auto it = topics_.find(name);
  if (it == topics_.end()) return;
  const Topic& t = it->second;
  if (t.subscribers.empty() && t.history.empty() && !t.members) topics_.erase(it);
}

void Topics::subscribe(ConnId conn, const NodeId& who, const std::string& name, TimePoint now) {
  auto existing = topics_.find(name);
  Topic* topic = existing == topics_.end() ? nullptr : &existing->second;
  if (!mayAccess(name, topic, who)) {
    ++stats_.notMember;
    refuse(conn, "not-a-member", "this topic is restricted to the members its owner listed", name);
    return;
  }
  ConnState& state = conns_.try_emplace(conn).first->second;
  state.who = who;
  if (state.subscriptions.contains(name)) {
    send(conn, SubscribedFrame{name, 0});  // already subscribed: nothing to replay
    return;
  }
  if (state.subscriptions.size() >= limits_.subscriptionsPerConnection) {
    ++stats_.limitRefused;
    refuse(conn, "subscription-limit",
           "at most " + std::to_string(limits_.subscriptionsPerConnection) + " topics per connection", name);
    return;
  }
  topic = findOrCreate(name);
  if (topic == nullptr) {
    ++stats_.limitRefused;
    refuse(conn, "topic-limit", "the hub holds as many topics as it allows", name);
    return;
  }
  state.subscriptions.insert(name);
  topic->subscribers.insert(conn);
  uint64_t retained = 0;
  for (const auto& r : topic->history) retained += r.expiresAt > now ? 1 : 0;
  send(conn, SubscribedFrame{name, retained});
  const Framing framing = framingOf_(conn);
  for (const auto& r : topic->history) {
    if (r.expiresAt <= now) continue;  // expired, not yet swept
    out_->push_back(SendFrame{conn, r.as(framing), std::nullopt, true});
    ++stats_.fannedOut;
  }
}

void Topics::unsubscribe(ConnId conn, const std::string& name) {
  auto state = conns_.find(conn);
  if (state == conns_.end() || state->second.subscriptions.erase(name) == 0) return;
  if (auto it = topics_.find(name); it != topics_.end()) it->second.subscribers.erase(conn);
  eraseIfIdle(name);
}

void Topics::publish(ConnId conn, const NodeId& who, const Publication& p, TimePoint now) {
  const std::string& name = p.topic;
  if (p.body.size() > limits_.maxBodyBytes) {
    ++stats_.limitRefused;
    refuse(conn, "topic-message-too-large", "body larger than " + std::to_string(limits_.maxBodyBytes) + " bytes",
           name, p.seq);
    return;
  }
  auto existing = topics_.find(name);
  if (!mayAccess(name, existing == topics_.end() ? nullptr : &existing->second, who)) {
    ++stats_.notMember;
    refuse(conn, "not-a-member", "this topic is restricted to the members its owner listed", name, p.seq);
    return;
  }
  const int64_t ns = TokenBucket::nanos(now);
  auto bucket = publishers_.find(who);
  if (bucket == publishers_.end()) {
    if (publishers_.size() >= kMaxPublishers) sweepPublishers(ns);
    if (publishers_.size() >= kMaxPublishers) {
      ++stats_.rateLimited;
      refuse(conn, "publish-rate-limited", "too many publishers at once on this hub; try again", name, p.seq);
      return;
    }
    bucket = publishers_.emplace(who, TokenBucket(limits_.publishPerSecond, limits_.publishBurst)).first;
  }
  if (!bucket->second.take(1, ns)) {
    ++stats_.rateLimited;
    refuse(conn, "publish-rate-limited",
           "more than " + std::to_string(limits_.publishPerSecond) + " publications per second from this publisher",
           name, p.seq);
    return;
  }
  Topic* topic = findOrCreate(name);
  if (topic == nullptr) {
    ++stats_.limitRefused;
    refuse(conn, "topic-limit", "the hub holds as many topics as it allows", name, p.seq);
    return;
  }
  if (!topic->bucket.take(1, ns)) {
    ++stats_.topicRateLimited;
    refuse(conn, "topic-rate-limited",
           "more than " + std::to_string(limits_.topicPerSecond) + " publications per second on this topic", name,
           p.seq);
    eraseIfIdle(name);
    return;
  }
  ++stats_.published;
  // Encoded once per framing, not per subscriber.
  const Frame publish{PublishFrame{p}};
  EncodedOnce encoded(publish);
  for (ConnId s : topic->subscribers) out_->push_back(SendFrame{s, encoded.as(framingOf_(s)), std::nullopt, true});
  stats_.fannedOut += topic->subscribers.size();
  send(conn, PublishedFrame{name, p.seq, topic->subscribers.size()});
  if (limits_.historyMessages == 0) {
    eraseIfIdle(name);
    return;
  }
  const uint64_t id = nextId_++;
  const TimePoint expiresAt = now + limits_.historyTtl;
  Retained kept{id, expiresAt, {encoded.as(Framing::Json), encoded.as(Framing::Cbor)}};
  historyBytes_ += kept.bytes();
  ++retainedCount_;
  topic->history.push_back(std::move(kept));
  retainedOrder_.push_back(RetainedRef{expiresAt, name, id});
  while (topic->history.size() > limits_.historyMessages) {
    historyBytes_ -= topic->history.front().bytes();
    --retainedCount_;
    topic->history.pop_front();
  }
  while (historyBytes_ > limits_.historyBytes && retainedCount_ > 0) dropOldestRetained();
  compactOrder();
}

bool Topics::isLive(const RetainedRef& ref) const {
  // A topic's history only loses its oldest entries, so its live ids are those from its front on.
  auto it = topics_.find(ref.topic);
  return it != topics_.end() && !it->second.history.empty() && ref.id >= it->second.history.front().id;
}

void Topics::dropOldestRetained() {
  while (!retainedOrder_.empty()) {
    RetainedRef ref = std::move(retainedOrder_.front());
    retainedOrder_.pop_front();
    if (!isLive(ref)) continue;
    Topic& t = topics_.at(ref.topic);
    historyBytes_ -= t.history.front().bytes();
    --retainedCount_;
    t.history.pop_front();
    ++stats_.historyEvicted;
    eraseIfIdle(ref.topic);
    return;
  }
}

void Topics::compactOrder() {
  if (retainedOrder_.size() <= 2 * retainedCount_ + 64) return;
  std::deque<RetainedRef> live;
  for (auto& ref : retainedOrder_)
    if (isLive(ref)) live.push_back(std::move(ref));
  retainedOrder_ = std::move(live);
}

void Topics::setMembers(ConnId conn, const MembersRecord& r) {
  auto existing = topics_.find(r.topic);
  if (existing != topics_.end() && existing->second.members && existing->second.members->seq >= r.seq) {
    refuse(conn, "stale-members", "the hub holds a members record with this seq or a newer one", r.topic, r.seq);
    return;
  }
  Topic* topic = findOrCreate(r.topic);
  if (topic == nullptr) {
    ++stats_.limitRefused;
    refuse(conn, "topic-limit", "the hub holds as many topics as it allows", r.topic, r.seq);
    return;
  }
  ++stats_.membersAccepted;
  topic->members = r;
  topic->allowed = {r.members.begin(), r.members.end()};
  // Subscribers the new record leaves out are unsubscribed and told.
  for (auto it = topic->subscribers.begin(); it != topic->subscribers.end();) {
    auto state = conns_.find(*it);
    if (state != conns_.end() && mayAccess(r.topic, topic, state->second.who)) {
      ++it;
      continue;
    }
    if (state != conns_.end()) state->second.subscriptions.erase(r.topic);
    refuse(*it, "not-a-member", "the topic's owner no longer lists this identity; unsubscribed", r.topic);
    it = topic->subscribers.erase(it);
  }
}

void Topics::dropConnection(ConnId conn) {
  auto state = conns_.find(conn);
  if (state == conns_.end()) return;
  for (const auto& name : state->second.subscriptions) {
    if (auto it = topics_.find(name); it != topics_.end()) it->second.subscribers.erase(conn);
    eraseIfIdle(name);
  }
  conns_.erase(state);
}

void Topics::sweepPublishers(int64_t nowNs) {
  std::erase_if(publishers_, [nowNs](const auto& entry) { return entry.second.full(nowNs); });
}

std::optional<TimePoint> Topics::nextDeadline() const {
  if (retainedOrder_.empty()) return std::nullopt;
  return retainedOrder_.front().expiresAt;
}

void Topics::expire(TimePoint now) {
  sweepPublishers(TokenBucket::nanos(now));
  while (!retainedOrder_.empty() && retainedOrder_.front().expiresAt <= now) {
    RetainedRef ref = std::move(retainedOrder_.front());
    retainedOrder_.pop_front();
    if (!isLive(ref)) continue;
    Topic& t = topics_.at(ref.topic);
    historyBytes_ -= t.history.front().bytes();
    --retainedCount_;
    t.history.pop_front();
    ++stats_.historyExpired;
    eraseIfIdle(ref.topic);
  }
}

}  // namespace rdv::signalling
