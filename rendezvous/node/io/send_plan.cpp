#include "rendezvous/node/io/send_plan.h"

namespace rdv::node {

void orderBySocket(std::span<const SendItem> items, std::vector<uint32_t>& order) {
  order.resize(items.size());
  // A stable insertion sort by socket key, in place (no allocation once `order` has grown): a batch's
  // datagrams mostly come grouped already (one read = one socket's input), so this is linear then.
  for (uint32_t i = 0; i < items.size(); ++i) {
    uint32_t j = i;
    while (j > 0 && items[order[j - 1]].socket > items[i].socket) {
      order[j] = order[j - 1];
      --j;
    }
    order[j] = i;
  }
}

void planRuns(std::span<const SendItem> items, std::span<const uint32_t> order, std::vector<SendRun>& runs) {
  runs.clear();
  uint32_t k = 0;
  while (k < order.size()) {
    const SendItem& head = items[order[k]];
    SendRun run{k, 1, head.size};
    const bool canGrow = head.gso && head.size > 0 && head.size <= kMaxGsoSegment;
    while (canGrow && k + run.count < order.size() && run.count < kMaxGsoSegments) {
      const SendItem& next = items[order[k + run.count]];
      const SendItem& last = items[order[k + run.count - 1]];
      if (last.size != run.segment) break;  // the previous one was short: it ends the run
      if (next.socket != head.socket || next.to != head.to || next.dontFragment != head.dontFragment) break;
      if (next.size == 0 || next.size > run.segment) break;
      if (size_t{run.segment} * run.count + next.size > kMaxGsoBytes) break;
      ++run.count;
    }
    runs.push_back(run);
    k += run.count;
  }
}

}  // namespace rdv::node
