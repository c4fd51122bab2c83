// Filters of the kernel fast path left on a device by a node killed with -9 that was never started again
// with its data directory (which would remove its own): found at start-up by every node and removed when
// no process holds their program any more (docs/turn.md, "Clean-up").
#pragma once

#include <bpf/libbpf.h>

#include <cstdint>
#include <unordered_set>

namespace rdv::node {

// Programs some process holds open (/proc/*/fd links to anon_inode:bpf-prog, ids from their fdinfo): a
// live node holds its program.
std::unordered_set<uint32_t> heldBpfPrograms();

// Removes from `hook` every fast-path filter (any instance) whose program is named rdv_fastpath and held
// by no process. `held` (from heldBpfPrograms) is read again before each removal, so a node that attached
// after it was read is spared. Returns how many were removed.
int detachOrphanFilters(bpf_tc_hook& hook, std::unordered_set<uint32_t>& held);

}  // namespace rdv::node
