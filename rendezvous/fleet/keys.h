// The fleet's key layout in Redis (docs/fleet.md, "Keys"). Every key starts with rdv:{FLEET}: so that
// the {hash tag} puts a fleet's keys in one slot: the Lua scripts touch several keys atomically, which
// Redis Cluster allows only within one slot. Node ids and identities are 64 lowercase hex digits.
#pragma once

#include <string>
#include <string_view>

namespace rdv::fleet {

class Keys {
 public:
  explicit Keys(std::string_view fleet) : prefix_("rdv:{" + std::string(fleet) + "}:") {}
  const std::string& prefix() const { return prefix_; }

  // Registry (redis_registry.cpp).
  std::string registration(std::string_view idHex, std::string_view ns) const {  // hash: enr seq exp ctr
    return prefix_ + "reg:" + std::string(idHex) + ":" + std::string(ns);
  }
  std::string namespaceOrder(std::string_view ns) const { return prefix_ + "ns:" + std::string(ns); }  // zset ctr -> id
  std::string identityNamespaces(std::string_view idHex) const { return prefix_ + "idns:" + std::string(idHex); }
  std::string registryExpiry() const { return prefix_ + "regexp"; }  // zset exp -> id||ns
  std::string registryCounter() const { return prefix_ + "regctr"; }

  // Signalling (redis_mailbox_store.cpp, router.cpp).
  std::string mailbox(std::string_view recipientHex) const { return prefix_ + "mb:" + std::string(recipientHex); }
  std::string mailboxCounter() const { return prefix_ + "mbctr"; }
  std::string presence(std::string_view idHex) const { return prefix_ + "conn:" + std::string(idHex); }
  std::string nodeChannel(std::string_view nodeHex) const { return prefix_ + "node:" + std::string(nodeHex); }

  // Usage (usage_stream.cpp): every node's ledger flushes, per (day, identity, class).
  std::string usageStream() const { return prefix_ + "usage"; }

  // Quotas (quota_sync.cpp): per identity key "<kind>/<identity>".
  std::string quotaAllocations(std::string_view key) const { return prefix_ + "qa:" + std::string(key); }  // hash node -> n
  std::string quotaBytes(int64_t day, std::string_view key) const {  // string: the fleet's bytes that UTC day
    return prefix_ + "qb:" + std::to_string(day) + ":" + std::string(key);
  }
  std::string quotaChanges() const { return prefix_ + "qchg"; }  // zset key -> Redis ms of its last change
  std::string quotaLive() const { return prefix_ + "qlive"; }    // zset node id -> Redis ms of its last tick

  // Node directory (fleet.cpp).
  std::string nodeEntry(std::string_view nodeHex) const { return prefix_ + "nodes:" + std::string(nodeHex); }
  std::string nodeList() const { return prefix_ + "nodes"; }  // zset last-announce-ms -> node id

 private:
  std::string prefix_;
};

}  // namespace rdv::fleet
