#include "rendezvous/node/config_values.h"

namespace rdv::node::config_detail {

std::optional<std::string> needString(const Json& v, std::string& out) {
  if (!v.is_string()) return "expected a string";
  out = v.get<std::string>();
  return std::nullopt;
}

std::optional<std::string> needUint(const Json& v, unsigned min, unsigned max, unsigned& out) {
  if (!v.is_number_integer() && !v.is_number_unsigned()) return "expected a whole number";
  const auto n = v.get<int64_t>();
  if (n < min || n > max) return "must be between " + std::to_string(min) + " and " + std::to_string(max);
  out = static_cast<unsigned>(n);
  return std::nullopt;
}

std::optional<std::string> needNumber(const Json& v, double min, double max, double& out) {
  if (!v.is_number()) return "expected a number";
  const double n = v.get<double>();
  if (!(n >= min && n <= max)) return "must be between " + std::to_string(min) + " and " + std::to_string(max);
  out = n;
  return std::nullopt;
}

std::optional<std::string> needEndpoints(const Json& v, std::vector<Endpoint>& out) {
  out.clear();
  if (v.is_string()) {  // a single endpoint is accepted where a list is expected
    Json list = Json::array({v});
    return needEndpoints(list, out);
  }
  if (!v.is_array()) return "expected a list of ADDR:PORT strings";
  for (const auto& e : v) {
    if (!e.is_string()) return "expected ADDR:PORT strings";
    auto ep = Endpoint::parse(e.get<std::string>());
    if (!ep) return "'" + e.get<std::string>() + "' is not ADDR:PORT (IPv6 as [ADDR]:PORT)";
    out.push_back(*ep);
  }
  return std::nullopt;
}

// "ADDR:PORT", or "" for off.
std::optional<std::string> needOptionalEndpoint(const Json& v, std::optional<Endpoint>& out) {
  std::string s;
  if (auto err = needString(v, s)) return err;
  if (s.empty()) {
    out.reset();
    return std::nullopt;
  }
  auto ep = Endpoint::parse(s);
  if (!ep) return "'" + s + "' is not ADDR:PORT (IPv6 as [ADDR]:PORT)";
  out = *ep;
  return std::nullopt;
}

std::optional<std::string> needStrings(const Json& v, std::vector<std::string>& out) {
  out.clear();
  if (v.is_string()) {
    out.push_back(v.get<std::string>());
    return std::nullopt;
  }
  if (!v.is_array()) return "expected a list of strings";
  for (const auto& e : v) {
    if (!e.is_string()) return "expected a list of strings";
    out.push_back(e.get<std::string>());
  }
  return std::nullopt;
}

std::optional<std::string> needIps(const Json& v, std::vector<IpAddress>& out) {
  std::vector<std::string> texts;
  if (auto err = needStrings(v, texts)) return err;
  out.clear();
  for (const auto& t : texts) {
    auto ip = IpAddress::parse(t);
    if (!ip) return "'" + t + "' is not an IP address";
    out.push_back(*ip);
  }
  return std::nullopt;
}

std::optional<std::string> needCidrs(const Json& v, std::vector<relay::Cidr>& out) {
  std::vector<std::string> texts;
  if (auto err = needStrings(v, texts)) return err;
  out.clear();
  for (const auto& t : texts) {
    auto c = relay::parseCidr(t);
    if (!c) return c.error();
    out.push_back(*c);
  }
  return std::nullopt;
}

std::optional<std::string> needUint64(const Json& v, uint64_t& out) {
  if (v.is_number_unsigned()) {
    out = v.get<uint64_t>();
    return std::nullopt;
  }
  if (v.is_number_integer() && v.get<int64_t>() >= 0) {
    out = static_cast<uint64_t>(v.get<int64_t>());
    return std::nullopt;
  }
  return "expected a whole number of at least 0";
}

// One quota class's fields (docs/operator.md, "Quotas"); `key` names it in errors.
std::optional<std::string> needQuotaClass(const Json& v, const std::string& key, relay::QuotaClass& c) {
  if (!v.is_object()) return key + ": expected an object of bytes-per-second, burst, bytes-per-day, allocations, "
                                   "max-lifetime, bytes-per-allocation";
  for (const auto& [field, value] : v.items()) {
    uint64_t n = 0;
    if (auto err = needUint64(value, n)) return key + "." + field + ": " + *err;
    if (field == "bytes-per-second") c.bytesPerSecond = n;
    else if (field == "burst") c.burst = n;
    else if (field == "bytes-per-day") c.bytesPerDay = n;
    else if (field == "bytes-per-allocation") c.bytesPerAllocation = n;
    else if (field == "allocations") {
      if (n > 100'000'000) return key + "." + field + ": must be at most 100000000";
      c.allocations = static_cast<uint32_t>(n);
    } else if (field == "max-lifetime") {
      if (n > 86400 * 365) return key + "." + field + ": must be at most a year in seconds";
      c.maxLifetime = relay::Seconds(static_cast<int64_t>(n));
    } else {
      return key + ": unknown field '" + field + "' (bytes-per-second, burst, bytes-per-day, allocations, "
                   "max-lifetime, bytes-per-allocation)";
    }
  }
  return std::nullopt;
}

std::optional<std::string> weakSecret(const std::string& secret) {
  // The example values of configs/node.json and docs/*.md: copied unchanged, they are public.
  static const char* const kPlaceholders[] = {"a-long-random-secret", "change-me-to-a-long-random-token",
                                               "change-me", "changeme", "SECRET", "secret"};
  if (secret.size() < 16) return "too short (" + std::to_string(secret.size()) + " bytes, at least 16)";
  for (const char* p : kPlaceholders)
    if (secret == p) return std::string("is the documented placeholder \"") + p + "\": use a long random value";
  return std::nullopt;
}

}  // namespace rdv::node::config_detail
