// The record-building flags shared by `rdv enr encode` and `rdv register`: --seq, --ip, --ip6,
// --udp, --tcp, --udp6, --tcp6 and --set KEY=VALUE (text, or 0x-prefixed hex bytes).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "rendezvous/enr/enr_record.h"
#include "rendezvous/identity/private_key.h"
#include "rendezvous/base/result.h"

namespace CLI {
class App;
}

namespace rdv::cli {

struct RecordOptions {
  uint64_t seq = 1;
  std::string ip;
  std::string ip6;
  std::optional<uint16_t> udp, tcp, udp6, tcp6;
  std::vector<std::string> sets;
};

void addRecordOptions(CLI::App& command, RecordOptions& options);
// Builds and signs the record; the error says which flag was wrong.
Result<enr::EnrRecord, std::string> buildRecord(const RecordOptions& options, const identity::PrivateKey& key);

}  // namespace rdv::cli
