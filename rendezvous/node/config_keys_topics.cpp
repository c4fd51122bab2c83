// The signalling hub's topic and presence keys (docs/operator.md, docs/signalling.md "Topics" and
// "Presence"), appended to the key table of config_keys.cpp.
#include "rendezvous/node/config_values.h"

namespace rdv::node::config_detail {

void appendTopicKeys(std::vector<Key>& t) {
  t.push_back({{"signal-topic-history", "uint", "signalling topics: messages retained per topic for late subscribers (0-100000; 0: none; default 16)", false},
               [](const Json& v, Config& c) { return needUint(v, 0, 100000, c.signalTopicHistory); }});
  t.push_back({{"signal-topic-ttl", "uint", "signalling topics: seconds a retained message is kept (1-86400; default 300)", false},
               [](const Json& v, Config& c) { return needUint(v, 1, 86400, c.signalTopicTtlSeconds); }});
  t.push_back({{"signal-topic-max", "uint", "signalling topics: topics alive on the hub, subscribed, retaining or restricted (1-10000000; default 10000)", false},
               [](const Json& v, Config& c) { return needUint(v, 1, 10000000, c.signalTopicMax); }});
  t.push_back({{"signal-topic-subscriptions", "uint", "signalling topics: topics one connection may subscribe to (1-100000; default 64)", false},
               [](const Json& v, Config& c) { return needUint(v, 1, 100000, c.signalTopicSubscriptions); }});
  t.push_back({{"signal-topic-history-bytes", "uint", "signalling topics: bytes of retained messages in total, oldest dropped first (default 67108864)", false},
               [](const Json& v, Config& c) { return needUint(v, 1, 4000000000u, c.signalTopicHistoryBytes); }});
  t.push_back({{"signal-topic-max-bytes", "uint", "signalling topics: body bytes of one published message (1-65536, at most what signal-max-frame-bytes carries; default 8192)", false},
               [](const Json& v, Config& c) { return needUint(v, 1, 65536, c.signalTopicMaxBytes); }});
  t.push_back({{"signal-topic-publish-rate", "uint", "signalling topics: publications per second per publisher, burst twice that (default 10)", false},
               [](const Json& v, Config& c) { return needUint(v, 1, 1000000, c.signalTopicPublishRate); }});
  t.push_back({{"signal-topic-rate", "uint", "signalling topics: publications per second per topic, all publishers, burst twice that (default 100)", false},
               [](const Json& v, Config& c) { return needUint(v, 1, 1000000, c.signalTopicRate); }});
  t.push_back({{"signal-presence-watches", "uint", "signalling presence: identities one connection may watch, and new watches per minute (1-100000; default 256)", false},
               [](const Json& v, Config& c) { return needUint(v, 1, 100000, c.signalPresenceWatches); }});
}

}  // namespace rdv::node::config_detail
