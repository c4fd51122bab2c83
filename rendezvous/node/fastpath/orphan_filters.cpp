// The kernel fast path's start-up clean-up of filters left by nodes killed with -9 (orphan_filters.h).
#include "rendezvous/node/fastpath/orphan_filters.h"

#include <bpf/bpf.h>
#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

#include "rendezvous/node/fastpath/tc_filter.h"

namespace rdv::node {

namespace {

bool isOurProgram(uint32_t id) {
  const int fd = bpf_prog_get_fd_by_id(id);
  if (fd < 0) return false;
  bpf_prog_info info{};
  uint32_t len = sizeof(info);
  const bool ours = bpf_obj_get_info_by_fd(fd, &info, &len) == 0 && std::strcmp(info.name, "rdv_fastpath") == 0;
  ::close(fd);
  return ours;
}

}  // namespace

// Programs some process holds open (/proc/*/fd links to anon_inode:bpf-prog, ids from their fdinfo): a
// live node holds its program. Read once at start.
std::unordered_set<uint32_t> heldBpfPrograms() {
  namespace fs = std::filesystem;
  std::unordered_set<uint32_t> ids;
  std::error_code ec;
  for (fs::directory_iterator proc("/proc", ec), end; !ec && proc != end; proc.increment(ec)) {
    const std::string pid = proc->path().filename();
    if (pid.empty() || !std::isdigit(static_cast<unsigned char>(pid[0]))) continue;
    std::error_code fdEc;
    for (fs::directory_iterator fd(proc->path() / "fd", fdEc); !fdEc && fd != end; fd.increment(fdEc)) {
      std::error_code linkEc;
      if (fs::read_symlink(fd->path(), linkEc).native() != "anon_inode:bpf-prog") continue;
      std::ifstream info(proc->path() / "fdinfo" / fd->path().filename());
      for (std::string line; std::getline(info, line);) {
        if (line.rfind("prog_id:", 0) != 0) continue;
        ids.insert(static_cast<uint32_t>(std::strtoul(line.c_str() + 8, nullptr, 10)));
        break;
      }
    }
  }
  return ids;
}

// Filters of ours (any instance) whose program no process holds: left by a node killed with -9 that was
// not started again with its data directory (which would remove its own, above). Left attached they
// would go on forwarding the dead node's channels. Returns how many were removed.
// `held` is refreshed before a filter is removed: a node that attached after it was read holds its program
// (it opens it before it attaches), so a fresh read spares it.
int detachOrphanFilters(bpf_tc_hook& hook, std::unordered_set<uint32_t>& held) {
  int removed = 0;
  for (uint16_t instance = 0; instance <= 0x3FFF; ++instance) {
    bpf_tc_opts q = fastPathFilter(0, instance);
    if (bpf_tc_query(&hook, &q) != 0 || held.count(q.prog_id) != 0 || !isOurProgram(q.prog_id)) continue;
    held = heldBpfPrograms();
    if (held.count(q.prog_id) != 0) continue;
    bpf_tc_opts d = fastPathFilter(0, instance);
    if (bpf_tc_detach(&hook, &d) == 0) ++removed;
  }
  return removed;
}

}  // namespace rdv::node
