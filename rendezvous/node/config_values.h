// The configuration's value readers (one per kind of key: string, uint, endpoint list, CIDR list, quota
// class, ...) and its key table. Internal to config*.cpp: config_keys.cpp holds the table, config.cpp
// applies it.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "rendezvous/node/config.h"

namespace rdv::node::config_detail {

using Json = nlohmann::json;
using Apply = std::function<std::optional<std::string>(const Json&, Config&)>;

struct Key {
  OptionSpec spec;
  Apply apply;
};

// Every key, in --help order.
const std::vector<Key>& keys();
// The keys of a public node (hoarding limits, secret files), in config_keys_public.cpp; part of keys().
const std::vector<Key>& publicNodeKeys();
// The topic and presence keys (config_keys_topics.cpp), appended to keys().
void appendTopicKeys(std::vector<Key>& table);
// The registry keys (config_keys_registry.cpp), appended to keys().
void appendRegistryKeys(std::vector<Key>& table);
// The kernel fast path's keys (config_keys_fastpath.cpp), appended to keys().
void appendFastPathKeys(std::vector<Key>& table);
// `table` with the fleet's keys (redis, redis-password-file, fleet) appended (config_fleet_keys.cpp).
std::vector<Key> withFleetKeys(std::vector<Key> table);

// Each returns the reason when `v` is not a valid value of its kind (the caller adds the key's name).
std::optional<std::string> needString(const Json& v, std::string& out);
std::optional<std::string> needUint(const Json& v, unsigned min, unsigned max, unsigned& out);
std::optional<std::string> needNumber(const Json& v, double min, double max, double& out);
std::optional<std::string> needEndpoints(const Json& v, std::vector<Endpoint>& out);
// "ADDR:PORT", or "" for off.
std::optional<std::string> needOptionalEndpoint(const Json& v, std::optional<Endpoint>& out);
std::optional<std::string> needStrings(const Json& v, std::vector<std::string>& out);
std::optional<std::string> needIps(const Json& v, std::vector<IpAddress>& out);
std::optional<std::string> needCidrs(const Json& v, std::vector<relay::Cidr>& out);
std::optional<std::string> needUint64(const Json& v, uint64_t& out);
// A secret an attacker can guess: shorter than 16 bytes, or a placeholder of the docs and example configs.
std::optional<std::string> weakSecret(const std::string& secret);
// One quota class's fields (docs/operator.md, "Quotas"); `key` names it in errors.
std::optional<std::string> needQuotaClass(const Json& v, const std::string& key, relay::QuotaClass& c);

}  // namespace rdv::node::config_detail
