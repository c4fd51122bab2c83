#include "signalling/agent/node_list.h"

#include <algorithm>

#include "rendezvous/client/http_client.h"

namespace rdv::agent {

NodeList::NodeList(std::vector<std::string> urls) : urls_(std::move(urls)) {
  if (urls_.empty()) urls_.push_back("");
}

void NodeList::addFromDirectory(const nlohmann::json& body) {
  if (!body.is_object() || !body.contains("nodes") || !body["nodes"].is_array()) return;
  const std::string scheme = urls_.front().rfind("https://", 0) == 0 ? "https://" : "http://";
  for (const auto& n : body["nodes"]) {
    if (!n.is_object() || !n.contains("http") || !n["http"].is_string()) continue;
    const std::string hostPort = n["http"].get<std::string>();
    if (hostPort.rfind("0.0.0.0:", 0) == 0 || hostPort.rfind("[::]:", 0) == 0) continue;
    const std::string url = scheme + hostPort;
    if (!cli::parseHttpUrl(url)) continue;
    if (std::find(urls_.begin(), urls_.end(), url) == urls_.end()) urls_.push_back(url);
  }
}

Result<std::string, std::string> NodeList::pickReachable(std::chrono::milliseconds timeout) {
  std::string failures;
  const size_t given = urls_.size();
  for (size_t i = 0; i < given; ++i) {
    auto url = cli::parseHttpUrl(urls_[i]);
    if (!url) {
      failures += (failures.empty() ? "" : "; ") + urls_[i] + ": " + url.error();
      continue;
    }
    auto reply = cli::httpRequest(*url, {"GET", "/v1/nodes", "", timeout, nullptr, ""});
    if (!reply) {
      failures += (failures.empty() ? "" : "; ") + urls_[i] + ": " + reply.error();
      continue;
    }
    current_ = i;
    if (reply->status == 200) addFromDirectory(nlohmann::json::parse(reply->body, nullptr, false));
    return urls_[i];
  }
  return unexpected("no node answers (" + failures + ")");
}

std::vector<std::string> NodeList::others() const {
  std::vector<std::string> out;
  for (size_t k = 1; k < urls_.size(); ++k) out.push_back(urls_[(current_ + k) % urls_.size()]);
  return out;
}

void NodeList::setCurrent(const std::string& url) {
  const auto it = std::find(urls_.begin(), urls_.end(), url);
  if (it != urls_.end()) current_ = static_cast<size_t>(it - urls_.begin());
}

}  // namespace rdv::agent
