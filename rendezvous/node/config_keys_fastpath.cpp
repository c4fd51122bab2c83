// The kernel fast path's keys (docs/operator.md, docs/turn.md "Kernel fast path"), appended to the key
// table of config_keys.cpp.
#include "rendezvous/node/config_values.h"

namespace rdv::node::config_detail {

void appendFastPathKeys(std::vector<Key>& t) {
  t.push_back({{"kernel-fast-path", "string",
                "forward bound UDP ChannelData in the kernel (eBPF at TC ingress): off, auto (when the kernel allows) or on (required)",
                false},
               [](const Json& v, Config& c) -> std::optional<std::string> {
                 std::string s;
                 if (auto err = needString(v, s)) return err;
                 if (s != "off" && s != "auto" && s != "on") return "'" + s + "' is not one of off, auto, on";
                 c.kernelFastPath = s;
                 return std::nullopt;
               }});
  t.push_back({{"kernel-fast-path-interfaces", "string-list",
                "network devices the kernel fast path attaches to (repeatable; default: those carrying the listen and relay addresses)",
                true},
               [](const Json& v, Config& c) { return needStrings(v, c.kernelFastPathInterfaces); }});
}

}  // namespace rdv::node::config_detail
