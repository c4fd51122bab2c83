// FastPath in a build without BPF (clang, bpftool or libbpf-dev missing at configure time): open() says
// so, and `kernel-fast-path = auto` carries on in user space. The other members are never reached
// without an object.
#include "rendezvous/node/fastpath/fast_path.h"

namespace rdv::node {

struct FastPath::Impl {};

FastPath::FastPath(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
FastPath::~FastPath() = default;

Result<std::unique_ptr<FastPath>, std::string> FastPath::open(const Options&) {
  return unexpected(std::string(
      "this build has no kernel fast path (configure with clang, bpftool and libbpf-dev installed)"));
}
int FastPath::orphansRemoved() const { return 0; }
Result<int, std::string> FastPath::detachStale(const std::vector<std::string>&, uint16_t) { return 0; }
bool FastPath::watchPort(uint16_t, bool) { return false; }
bool FastPath::bind(const FastPathBinding&) { return false; }
void FastPath::unbind(const FastPathBinding&) {}
bool FastPath::setBudget(uint32_t, uint64_t, uint64_t) { return false; }
FastPathCounters FastPath::takeCounters(uint32_t) { return {}; }
void FastPath::clearSlot(uint32_t) {}
FastPathStats FastPath::stats() const { return {}; }

}  // namespace rdv::node
