/* The kernel fast path of the TURN relay (issue 14): a TC ingress program that forwards ChannelData
 * between a client and a peer without the datagrams reaching user space.
 *
 * client -> node  ChannelData(channel, len) to a listen address, from a 5-tuple with that channel bound:
 *                 strip the 4-byte header, send the payload from the allocation's relay address to the peer.
 * peer -> node    UDP to a relay address from the peer a channel is bound to:
 *                 prepend the ChannelData header, send from the listen address to the client.
 *
 * Everything else - STUN, unknown channels, IP options, fragments, GSO batches, IPv6, ChannelData with
 * padding or a short length, datagrams that would exceed 1500 bytes, allocations out of budget - passes to the stack
 * unchanged (TC_ACT_UNSPEC: other filters on the device, such as another node's, still see it), and the
 * user-space engine handles it exactly as without the fast path. The daemon owns the
 * maps (fastpath_maps.h): it writes a binding when a channel is bound and removes it when the channel,
 * its permission or the allocation ends; it refills each allocation's byte budget from the quota every
 * tick and folds the counters into the allocation's usage, so metering stays exact. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/pkt_cls.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "fastpath_maps.h"

#define IP_OFF ETH_HLEN
#define UDP_OFF (ETH_HLEN + sizeof(struct iphdr))
#define IP_CSUM_OFF (IP_OFF + offsetof(struct iphdr, check))
#define IP_LEN_OFF (IP_OFF + offsetof(struct iphdr, tot_len))
#define IP_SRC_OFF (IP_OFF + offsetof(struct iphdr, saddr))
#define UDP_CSUM_OFF (UDP_OFF + offsetof(struct udphdr, check))
#define MAX_IP_LEN 1500

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 65536); /* resized from the config before load */
  __type(key, struct fp_client_key);
  __type(value, struct fp_binding);
} fp_client_map SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 65536);
  __type(key, struct fp_peer_key);
  __type(value, struct fp_binding);
} fp_peer_map SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 65536);
  __type(key, __u32);
  __type(value, struct fp_allocation);
} fp_allocations SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 65536);
  __type(key, __u32);
  __type(value, struct fp_limit);
} fp_limits SEC(".maps");

/* 1 for every UDP port the program should look at (listen ports and live relay ports), so the rest of the
 * machine's traffic costs one array lookup. */
struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 65536);
  __type(key, __u32);
  __type(value, __u8);
} fp_ports SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct fp_stats);
} fp_stats_map SEC(".maps");

static __always_inline struct fp_stats *stats(void) {
  __u32 zero = 0;
  return bpf_map_lookup_elem(&fp_stats_map, &zero);
}

/* True when `len` more bytes in this direction stay within the slot's limit; false (and counted) when
 * they do not. */
static __always_inline int within_limit(struct fp_allocation *a, __u32 slot, int to_peer, __u32 len) {
  struct fp_limit *limit = bpf_map_lookup_elem(&fp_limits, &slot);
  if (limit && (to_peer ? a->bytes_to_peer + len <= limit->to_peer : a->bytes_to_client + len <= limit->to_client))
    return 1;
  __sync_fetch_and_add(&a->over_budget, 1);
  struct fp_stats *s = stats();
  if (s) s->over_budget++;
  return 0;
}

/* Sends the rewritten packet out of the device user space resolved from the routing table when the
 * channel was bound, with the next hop's link-layer address from the neighbour table (bpf_redirect_neigh
 * looks both up without needing IP forwarding on). A destination on this host (ifindex 0) goes up the
 * stack: in place when the packet came in on loopback (its route is already a local one); else out of
 * loopback, through bpf_redirect_neigh as well, which attaches the local route: a datagram from one of the
 * host's own addresses that reached the stack without a route would be dropped as a martian source. */
#define LOOPBACK_IFINDEX 1
static __always_inline int send(struct __sk_buff *skb, __u32 ifindex) {
  if (ifindex == 0) {
    if (skb->ifindex == LOOPBACK_IFINDEX) return TC_ACT_OK;
    ifindex = LOOPBACK_IFINDEX;
  }
  long rc = bpf_redirect_neigh(ifindex, 0, 0, 0);
  if (rc != TC_ACT_REDIRECT) {
    struct fp_stats *s = stats();
    if (s) s->redirect_failed++;
  }
  return (int)rc;
}

/* Rewrites addresses, ports and lengths of the IPv4/UDP headers in place and fixes both checksums
 * incrementally; `data_old`/`data_new` is the 4-byte ChannelData word that leaves (to the peer) or
 * arrives (to the client), which the UDP checksum counts as data. */
static __always_inline int rewrite(struct __sk_buff *skb, struct iphdr *ip, struct udphdr *udp,
                                   __u32 saddr, __u32 daddr, __u16 sport, __u16 dport, __u16 udp_len,
                                   __u16 ip_len, __u32 data_old, __u32 data_new) {
  __u32 old_saddr = ip->saddr, old_daddr = ip->daddr;
  __u16 old_ip_len = ip->tot_len;
  __u16 old_sport = udp->source, old_dport = udp->dest, old_udp_len = udp->len;
  int has_csum = udp->check != 0; /* IPv4 UDP without a checksum stays without one */
  ip->saddr = saddr;
  ip->daddr = daddr;
  ip->tot_len = ip_len;
  udp->source = sport;
  udp->dest = dport;
  udp->len = udp_len;
  /* ip and udp are invalid from here on: the checksum helpers may move the packet. */
  if (bpf_l3_csum_replace(skb, IP_CSUM_OFF, old_saddr, saddr, 4) < 0 ||
      bpf_l3_csum_replace(skb, IP_CSUM_OFF, old_daddr, daddr, 4) < 0 ||
      bpf_l3_csum_replace(skb, IP_CSUM_OFF, old_ip_len, ip_len, 2) < 0)
    return -1;
  if (!has_csum) return 0;
  const __u64 pseudo = BPF_F_PSEUDO_HDR | BPF_F_MARK_MANGLED_0;
  if (bpf_l4_csum_replace(skb, UDP_CSUM_OFF, old_saddr, saddr, pseudo | 4) < 0 ||
      bpf_l4_csum_replace(skb, UDP_CSUM_OFF, old_daddr, daddr, pseudo | 4) < 0 ||
      bpf_l4_csum_replace(skb, UDP_CSUM_OFF, old_udp_len, udp_len, pseudo | 2) < 0 ||
      bpf_l4_csum_replace(skb, UDP_CSUM_OFF, old_udp_len, udp_len, BPF_F_MARK_MANGLED_0 | 2) < 0 ||
      bpf_l4_csum_replace(skb, UDP_CSUM_OFF, old_sport, sport, BPF_F_MARK_MANGLED_0 | 2) < 0 ||
      bpf_l4_csum_replace(skb, UDP_CSUM_OFF, old_dport, dport, BPF_F_MARK_MANGLED_0 | 2) < 0 ||
      bpf_l4_csum_replace(skb, UDP_CSUM_OFF, data_old, data_new, BPF_F_MARK_MANGLED_0 | 4) < 0)
    return -1;
  return 0;
}

static __always_inline void count(struct fp_allocation *a, int to_peer, __u32 len) {
  struct fp_stats *s = stats();
  if (to_peer) {
    __sync_fetch_and_add(&a->bytes_to_peer, len);
    __sync_fetch_and_add(&a->packets_to_peer, 1);
    if (s) { s->to_peer_packets++; s->to_peer_bytes += len; }
  } else {
    __sync_fetch_and_add(&a->bytes_to_client, len);
    __sync_fetch_and_add(&a->packets_to_client, 1);
    if (s) { s->to_client_packets++; s->to_client_bytes += len; }
  }
}

/* The payload moves by 4 bytes inside the packet; the Ethernet, IP and UDP headers stay exactly where
 * they are. A datagram sent by a local socket (loopback, a container's veth) arrives with
 * CHECKSUM_PARTIAL: the UDP checksum is still to be computed from csum_start, the UDP header's place in
 * the buffer. bpf_skb_adjust_room would move the headers under it and leave csum_start 4 bytes off (the
 * receiver then drops small datagrams for a bad checksum); moving the payload keeps it valid, and the
 * partial checksum in the UDP field needs only the pseudo-header's changes (rewrite() does that). The
 * payload goes through a per-CPU scratch buffer: one load, one store, no loop for the verifier to walk.
 * The program runs in softirq with the CPU held, so nothing else uses the buffer while it does. */
#define SCRATCH_SIZE 2048 /* a power of two above MAX_IP_LEN, so a mask bounds the length for the verifier */
struct fp_scratch {
  __u8 bytes[SCRATCH_SIZE];
};

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct fp_scratch);
} fp_scratch_map SEC(".maps");

/* Copies the `len` bytes at `from` to `to` (the ranges may overlap). */
static __always_inline int move_bytes(struct __sk_buff *skb, __u32 from, __u32 to, __u32 len) {
  if (len == 0) return 0;
  if (len > MAX_IP_LEN) return -1;
  /* The same value as len (1..MAX_IP_LEN), in a form whose bounds the verifier sees: 1..SCRATCH_SIZE. */
  __u32 n = ((len - 1) & (SCRATCH_SIZE - 1)) + 1;
  __u32 zero = 0;
  struct fp_scratch *scratch = bpf_map_lookup_elem(&fp_scratch_map, &zero);
  if (!scratch) return -1;
  if (bpf_skb_load_bytes(skb, from, scratch->bytes, n) < 0) return -1;
  return bpf_skb_store_bytes(skb, to, scratch->bytes, n, 0) < 0 ? -1 : 0;
}

#define PAYLOAD_OFF (UDP_OFF + sizeof(struct udphdr))

static __always_inline int to_peer(struct __sk_buff *skb, struct iphdr *ip, struct udphdr *udp,
                                   const struct fp_binding *b, __u32 cd_word, __u32 len) {
  struct fp_allocation *a = bpf_map_lookup_elem(&fp_allocations, &b->slot);
  if (!a || !within_limit(a, b->slot, 1, len)) return TC_ACT_UNSPEC;
  /* The headers are rewritten in place and the ChannelData word leaves the checksum as data; the payload
   * moves 4 bytes toward the UDP header, over that word, and the tail's 4 stale bytes are cut. */
  __u16 new_len = bpf_htons((__u16)(len + sizeof(struct udphdr)));
  __u16 new_ip_len = bpf_htons((__u16)(len + sizeof(struct udphdr) + sizeof(struct iphdr)));
  if (rewrite(skb, ip, udp, b->relay_ip, b->peer_ip, b->relay_port, b->peer_port, new_len, new_ip_len,
              cd_word, 0) < 0)
    return TC_ACT_SHOT;
  if (move_bytes(skb, PAYLOAD_OFF + 4, PAYLOAD_OFF, len) < 0) return TC_ACT_SHOT;
  if (bpf_skb_change_tail(skb, PAYLOAD_OFF + len, 0) < 0) return TC_ACT_SHOT;
  count(a, 1, len);
  return send(skb, b->peer_ifindex);
}

static __always_inline int to_client(struct __sk_buff *skb, struct iphdr *ip, struct udphdr *udp,
                                     const struct fp_binding *b, __u32 len) {
  if (len + 4 + sizeof(struct udphdr) + sizeof(struct iphdr) > MAX_IP_LEN) return TC_ACT_UNSPEC;
  struct fp_allocation *a = bpf_map_lookup_elem(&fp_allocations, &b->slot);
  if (!a || !within_limit(a, b->slot, 0, len)) return TC_ACT_UNSPEC;
  __u32 cd_word = bpf_htonl(((__u32)b->channel << 16) | len);
  __u16 new_len = bpf_htons((__u16)(len + 4 + sizeof(struct udphdr)));
  __u16 new_ip_len = bpf_htons((__u16)(len + 4 + sizeof(struct udphdr) + sizeof(struct iphdr)));
  if (rewrite(skb, ip, udp, b->listen_ip, b->client_ip, b->listen_port, b->client_port, new_len,
              new_ip_len, 0, cd_word) < 0)
    return TC_ACT_SHOT;
  /* Four more bytes at the tail, the payload moved 4 bytes toward it, the ChannelData word written in
   * the gap after the UDP header. */
  if (bpf_skb_change_tail(skb, PAYLOAD_OFF + 4 + len, 0) < 0) return TC_ACT_SHOT;
  if (move_bytes(skb, PAYLOAD_OFF, PAYLOAD_OFF + 4, len) < 0) return TC_ACT_SHOT;
  if (bpf_skb_store_bytes(skb, PAYLOAD_OFF, &cd_word, 4, 0) < 0) return TC_ACT_SHOT;
  count(a, 0, len);
  return send(skb, b->client_ifindex);
}

SEC("tc")
int rdv_fastpath(struct __sk_buff *skb) {
  void *data = (void *)(long)skb->data;
  void *end = (void *)(long)skb->data_end;
  struct ethhdr *eth = data;
  if ((void *)(eth + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP)) return TC_ACT_UNSPEC;
  struct iphdr *ip = (void *)(eth + 1);
  if ((void *)(ip + 1) > end || ip->ihl != 5 || ip->protocol != IPPROTO_UDP) return TC_ACT_UNSPEC;
  if (ip->frag_off & bpf_htons(0x3FFF)) return TC_ACT_UNSPEC; /* fragments: user space reassembles */
  struct udphdr *udp = (void *)(ip + 1);
  if ((void *)(udp + 1) > end) return TC_ACT_UNSPEC;
  __u32 port = bpf_ntohs(udp->dest);
  __u8 *watched = bpf_map_lookup_elem(&fp_ports, &port);
  if (!watched || !*watched) return TC_ACT_UNSPEC;

  /* A GSO super-packet (a local sender's UDP_SEGMENT batch) is several datagrams in one: the stack
   * splits it for the socket, user space relays each. */
  if (skb->gso_size) goto pass;
  __u32 udp_len = bpf_ntohs(udp->len);
  if (udp_len < sizeof(struct udphdr) || UDP_OFF + udp_len != skb->len ||
      bpf_ntohs(ip->tot_len) != sizeof(struct iphdr) + udp_len)
    goto pass; /* trailing bytes (Ethernet padding) or a lying length: user space decides */
  __u32 payload = udp_len - sizeof(struct udphdr);
  __u8 *p = (void *)(udp + 1);
  if (payload >= 4 && (void *)(p + 4) <= end && (p[0] & 0xC0) == 0x40) {
    struct fp_client_key ck = {
        .client_ip = ip->saddr, .listen_ip = ip->daddr, .client_port = udp->source,
        .listen_port = udp->dest, .channel = (__u16)((p[0] << 8) | p[1]), .pad = 0};
    const struct fp_binding *b = bpf_map_lookup_elem(&fp_client_map, &ck);
    if (b) {
      __u32 len = ((__u32)p[2] << 8) | p[3];
      if (len + 4 != payload) goto pass; /* padded or short: user space decides */
      __u32 cd_word;
      __builtin_memcpy(&cd_word, p, 4);
      return to_peer(skb, ip, udp, b, cd_word, len);
    }
  }
  struct fp_peer_key pk = {.relay_ip = ip->daddr, .peer_ip = ip->saddr, .relay_port = udp->dest,
                           .peer_port = udp->source, .pad = 0};
  const struct fp_binding *b = bpf_map_lookup_elem(&fp_peer_map, &pk);
  if (b) return to_client(skb, ip, udp, b, payload);
pass:;
  struct fp_stats *s = stats();
  if (s) s->passed++;
  return TC_ACT_UNSPEC;
}

char LICENSE[] SEC("license") = "GPL";
