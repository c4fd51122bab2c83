#include "rendezvous/fleet/usage_stream.h"

#include <cstdlib>

namespace rdv::fleet {

UsagePublisher::UsagePublisher(RedisUrl url, Keys keys, std::string nodeHex)
    : redis_(std::move(url), std::chrono::milliseconds(250)), keys_(std::move(keys)), nodeHex_(std::move(nodeHex)) {}

void UsagePublisher::publish(const storage::LedgerBatch& batch) {
  for (const auto& [key, d] : batch.days) {
    const auto& [day, identity, quotaClass] = key;
    const UsageTotals& c = d.counters;
    if (c.empty() && d.allocations == 0 && d.allocationSeconds == 0) continue;
    backlog_.push_back({"XADD", keys_.usageStream(), "MAXLEN", "~", std::to_string(kStreamMaxLen), "*", "node",
                        nodeHex_, "day", day, "identity", identity, "class", quotaClass, "allocations",
                        std::to_string(d.allocations), "bytes_to_peer", std::to_string(c.bytesToPeer),
                        "bytes_to_client", std::to_string(c.bytesToClient), "packets_to_peer",
                        std::to_string(c.packetsToPeer), "packets_to_client", std::to_string(c.packetsToClient),
                        "allocation_seconds", std::to_string(d.allocationSeconds)});
  }
  while (backlog_.size() > kMaxBacklog) {
    backlog_.pop_front();
    ++dropped_;
  }
  while (!backlog_.empty()) {
    const size_t n = std::min<size_t>(backlog_.size(), 512);
    std::vector<std::vector<std::string>> chunk(backlog_.begin(), backlog_.begin() + static_cast<long>(n));
    if (!redis_.pipeline(chunk)) return;  // kept for the next flush
    backlog_.erase(backlog_.begin(), backlog_.begin() + static_cast<long>(n));
    published_ += n;
  }
}

Result<std::vector<UsageEntry>, RedisError> readUsage(RedisClient& redis, const Keys& keys, const std::string& sinceDay,
                                                      const std::string& untilDay, size_t maxEntries) {
  std::vector<UsageEntry> out;
  std::string from = "-";
  size_t read = 0;
  while (read < maxEntries) {
    auto page = redis.command({"XRANGE", keys.usageStream(), from, "+", "COUNT", "10000"});
    if (!page) return unexpected(page.error());
    if (page->elements.empty()) break;
    for (const Reply& entry : page->elements) {
      ++read;
      if (entry.elements.size() != 2) continue;
      from = "(" + entry.elements[0].str;
      UsageEntry u;
      const auto& fields = entry.elements[1].elements;
      for (size_t i = 0; i + 1 < fields.size(); i += 2) {
        const std::string& k = fields[i].str;
        const std::string& v = fields[i + 1].str;
        const uint64_t n = std::strtoull(v.c_str(), nullptr, 10);
        if (k == "node") u.node = v;
        else if (k == "day") u.day = v;
        else if (k == "identity") u.identity = v;
        else if (k == "class") u.quotaClass = v;
        else if (k == "allocations") u.totals.allocations = n;
        else if (k == "bytes_to_peer") u.totals.bytesToPeer = n;
        else if (k == "bytes_to_client") u.totals.bytesToClient = n;
        else if (k == "packets_to_peer") u.totals.packetsToPeer = n;
        else if (k == "packets_to_client") u.totals.packetsToClient = n;
        else if (k == "allocation_seconds") u.totals.allocationSeconds = n;
      }
      if (u.day >= sinceDay && u.day <= untilDay) out.push_back(std::move(u));
    }
    if (page->elements.size() < 10000) break;
  }
  return out;
}

}  // namespace rdv::fleet
