// TC ingress attachment through libbpf, shared by the kernel fast path (fast_path.cpp) and the bench's
// reflector (bench/reflector): the hook of a device's ingress and a filter's identity (handle, priority)
// with its program.
#pragma once

#include <bpf/libbpf.h>

#include <cstdint>

namespace rdv::node {

inline bpf_tc_hook ingressHook(int ifindex) {
  bpf_tc_hook hook{};
  hook.sz = sizeof(hook);
  hook.ifindex = ifindex;
  hook.attach_point = BPF_TC_INGRESS;
  return hook;
}

// progFd 0: for bpf_tc_query and bpf_tc_detach, which name the filter by handle and priority only.
inline bpf_tc_opts tcFilter(uint32_t handle, uint32_t priority, int progFd) {
  bpf_tc_opts opts{};
  opts.sz = sizeof(opts);
  opts.handle = handle;
  opts.priority = priority;
  opts.prog_fd = progFd;
  return opts;
}

// The kernel fast path's filter at TC ingress: handle "RD" and the node's instance number, the same on
// every interface, and a priority of its own per instance.
inline uint32_t fastPathHandle(uint16_t instance) { return 0x52440000u | instance; }
inline uint32_t fastPathPriority(uint16_t instance) { return 0x4000u + (instance & 0x3FFFu); }
inline bpf_tc_opts fastPathFilter(int progFd, uint16_t instance) {
  return tcFilter(fastPathHandle(instance), fastPathPriority(instance), progFd);
}

}  // namespace rdv::node
