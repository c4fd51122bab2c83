/* The maps shared by the kernel fast path (relay_fastpath.bpf.c) and the daemon (fast_path.cpp).
 *
 * One layout, two compilers: this header is plain C with fixed-size kernel types, every struct padded by
 * hand to a multiple of 8 bytes so clang -target bpf and g++ agree on sizes and offsets (checked by
 * static asserts in fast_path.cpp). Addresses and ports are in network byte order, as they sit in the
 * packet, so the program compares and copies them without swapping; channel numbers and slots are host
 * order. IPv4 only: IPv6 and everything the maps do not name pass to user space unchanged. */
#ifndef RDV_FASTPATH_MAPS_H
#define RDV_FASTPATH_MAPS_H

#include <linux/types.h>

/* Client -> peer: a ChannelData datagram from a client's 5-tuple to the node's listen address. */
struct fp_client_key {
  __u32 client_ip;   /* be */
  __u32 listen_ip;   /* be: the address the client sent to */
  __u16 client_port; /* be */
  __u16 listen_port; /* be */
  __u16 channel;     /* host order, 0x4000-0x4FFF */
  __u16 pad;
};

/* Peer -> client: a datagram from a peer to one of the node's relay addresses. */
struct fp_peer_key {
  __u32 relay_ip;   /* be */
  __u32 peer_ip;    /* be */
  __u16 relay_port; /* be */
  __u16 peer_port;  /* be */
  __u32 pad;
};

/* What both directions need to rewrite the packet; one value, stored under both keys. */
struct fp_binding {
  __u32 client_ip;   /* be */
  __u32 listen_ip;   /* be */
  __u32 relay_ip;    /* be */
  __u32 peer_ip;     /* be */
  __u16 client_port; /* be */
  __u16 listen_port; /* be */
  __u16 relay_port;  /* be */
  __u16 peer_port;   /* be */
  __u16 channel;     /* host order */
  __u16 pad;
  __u32 slot;        /* index into fp_allocations */
  /* Where each direction leaves: the egress device the node's routing table gives for the destination
   * (resolved by user space when the channel is bound), or 0 when the destination is this host. */
  __u32 peer_ifindex;
  __u32 client_ifindex;
};

/* Per allocation slot, two arrays so that each side writes only its own:
 * - fp_limits (struct fp_limit, written by user space only): per direction, the total payload bytes the
 *   kernel may have forwarded for this slot before it hands the slot's packets to user space again. User
 *   space sets it to what the kernel had forwarded when it last read the counters plus what the engine
 *   allows (the allocation's cap and the identity's daily budget left).
 * - fp_allocations (struct fp_allocation, written by the kernel only, with atomic adds; user space zeroes
 *   a slot only while no binding points at it): the counters, in payload bytes (what a peer receives, what
 *   a client receives inside ChannelData), as the user-space path's AllocationUsage counts them.
 * No update is lost; two CPUs forwarding for one slot at the same instant can pass the limit by one
 * datagram each. */
struct fp_allocation {
  __u64 bytes_to_peer;
  __u64 packets_to_peer;
  __u64 bytes_to_client;
  __u64 packets_to_client;
  __u64 over_budget;   /* packets passed to user space because they would pass the limit */
  __u64 pad;
};

struct fp_limit {
  __u64 to_peer;
  __u64 to_client;
};

/* Whole-program counters (per-CPU array, index 0): what /metrics reports beside the user-space ones. */
struct fp_stats {
  __u64 to_peer_packets;
  __u64 to_peer_bytes;
  __u64 to_client_packets;
  __u64 to_client_bytes;
  __u64 passed;        /* UDP to a watched port that was not ours to forward (STUN, unknown channel...) */
  __u64 over_budget;
  __u64 redirect_failed;
};

#define FP_MAX_LISTEN_PORTS 16

#endif
