// A minimal HTTP/1.1 GET for the fleet tests: one request on a fresh connection, read to the close.
#pragma once

#include <string>

namespace rdv::test {

struct HttpReply {
  int status = 0;
  std::string body;
};
HttpReply httpGet(const std::string& hostPort, const std::string& target, const std::string& authorization = {});
// One sample's value from an admin listener's /metrics ("" when absent).
std::string metricOf(const std::string& adminHostPort, const std::string& token, const std::string& name);

}  // namespace rdv::test
