// The nodes of a fleet an agent may use (docs/fleet.md, "Clients"): the --node URLs in the order given,
// plus the fleet's other live nodes from GET /v1/nodes of the first one that answers. The agent logs in
// at the first reachable node and, when its hub connection drops (the node died), moves to the next.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "rendezvous/base/result.h"

namespace rdv::agent {

class NodeList {
 public:
  explicit NodeList(std::vector<std::string> urls);

  // Adds the directory's nodes (GET /v1/nodes body: "http" of each entry) not listed yet, with the
  // scheme of the first URL; wildcard addresses are skipped. Pure.
  void addFromDirectory(const nlohmann::json& body);
  // Asks each node in order for GET /v1/nodes (`timeout` each) and makes the first that answers (any
  // HTTP status) the current one, adding the directory's nodes when it has them. The error names every
  // node that did not answer.
  Result<std::string, std::string> pickReachable(std::chrono::milliseconds timeout);

  const std::string& current() const { return urls_[current_]; }
  // Every node but the current one, starting after it (the order to fail over in).
  std::vector<std::string> others() const;
  void setCurrent(const std::string& url);
  const std::vector<std::string>& all() const { return urls_; }

 private:
  std::vector<std::string> urls_;
  size_t current_ = 0;
};

}  // namespace rdv::agent
