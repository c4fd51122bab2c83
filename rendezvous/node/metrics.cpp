#include "rendezvous/node/metrics.h"

#include <cctype>

namespace rdv::node {

std::string snakeCase(std::string_view camel) {
  std::string out;
  for (char c : camel) {
    if (std::isupper(static_cast<unsigned char>(c))) {
      if (!out.empty()) out.push_back('_');
      out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    } else {
      out.push_back(c);
    }
  }
  return out;
}

namespace {

void emit(std::string& out, const std::string& name, bool counter, std::string_view help, uint64_t value) {
  const std::string full = "rendezvous_" + name + (counter ? "_total" : "");
  out += "# HELP " + full + " " + std::string(help) + "\n";
  out += "# TYPE " + full + (counter ? " counter\n" : " gauge\n");
  out += full + " " + std::to_string(value) + "\n";
}

}  // namespace

std::string renderMetrics(const MetricsSnapshot& s) {
  std::string out;
#define RDV_EMIT_NODE(name, help)                                  \
  {                                                                \
    uint64_t sum = 0;                                              \
    for (const NodeStats* n : s.node) sum += n->name.get();        \
    emit(out, snakeCase(#name), true, help, sum);                  \
  }
  RDV_NODE_STATS(RDV_EMIT_NODE)
#undef RDV_EMIT_NODE
  if (!s.relay.empty()) {
    // Sum each stat over the workers, in declaration order.
    std::vector<uint64_t> sums;
    std::vector<std::pair<std::string, std::pair<bool, std::string>>> names;
    for (size_t w = 0; w < s.relay.size(); ++w) {
      size_t i = 0;
      s.relay[w]->forEach([&](std::string_view name, relay::StatKind kind, std::string_view help, uint64_t v) {
        if (w == 0) {
          sums.push_back(0);
          names.push_back({"relay_" + snakeCase(name), {kind == relay::StatKind::Counter, std::string(help)}});
        }
        sums[i++] += v;
      });
    }
    for (size_t i = 0; i < sums.size(); ++i) emit(out, names[i].first, names[i].second.first, names[i].second.second, sums[i]);
  }
  return out;
}

}  // namespace rdv::node
