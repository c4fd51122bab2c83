/* The benchmark's reflector (bench/run.py --veth, the reflector rows): a TC ingress program on the load
 * namespace's veth ends that bounces every UDP datagram addressed to a registered target straight back out
 * of the device it came in on, with the Ethernet and IPv4 addresses and the UDP ports swapped.
 *
 * At the peer's device that is the echoing peer; at the clients' device a ChannelData coming back from the
 * relay becomes the next ChannelData sent to the relay on the same channel (the relay answers a client
 * with the channel number the client uses). So a window of datagrams injected once circulates between the
 * load namespace and the relay with no user space on the load side, and the load costs the same (a few
 * hundred nanoseconds of softirq per bounce) whatever relay is measured.
 *
 * Checksums: the IPv4 header checksum is a ones'-complement sum of 16-bit words, and swapping saddr and
 * daddr (two aligned 32-bit fields) permutes words without changing the sum. The UDP checksum covers the
 * pseudo-header (both addresses again), the ports (swapped in place) and the payload (untouched): the same
 * sum. That holds for a full checksum and for CHECKSUM_PARTIAL datagrams from local sockets, whose field
 * holds the pseudo-header sum and whose csum_start does not move. Nothing is recomputed.
 *
 * Everything else (not IPv4/UDP, IP options, fragments, STUN at a TURN client, any other destination)
 * passes up the stack unchanged. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/pkt_cls.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "reflector_maps.h"

#define HEADERS (ETH_HLEN + sizeof(struct iphdr) + sizeof(struct udphdr))

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 4096);
  __type(key, struct rf_key);
  __type(value, struct rf_target);
} rf_targets SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct rf_control);
} rf_control_map SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct rf_counts);
} rf_counts_map SEC(".maps");

static __always_inline void count(struct rf_counts *c, struct __sk_buff *skb, int slot) {
  if (slot < 0 || slot >= RF_COUNTERS) return;
  c->packets[slot] += skb->gso_segs > 1 ? skb->gso_segs : 1;
  c->bytes[slot] += skb->len - HEADERS; /* one header set, however many segments */
}

SEC("tc")
int rdv_reflector(struct __sk_buff *skb) {
  if (bpf_skb_pull_data(skb, HEADERS + 1) < 0) return TC_ACT_OK; /* headers and the first payload byte */
  void *data = (void *)(long)skb->data;
  void *end = (void *)(long)skb->data_end;
  struct ethhdr *eth = data;
  struct iphdr *ip = data + ETH_HLEN;
  struct udphdr *udp = data + ETH_HLEN + sizeof(struct iphdr);
  __u8 *first = data + HEADERS;
  if ((void *)(first + 1) > end) return TC_ACT_OK;
  if (eth->h_proto != bpf_htons(ETH_P_IP) || ip->ihl != 5 || ip->protocol != IPPROTO_UDP) return TC_ACT_OK;
  if (ip->frag_off & bpf_htons(0x3FFF)) return TC_ACT_OK; /* MF or an offset: a fragment */

  struct rf_key key = {.ip = ip->daddr, .port = udp->dest};
  struct rf_target *t = bpf_map_lookup_elem(&rf_targets, &key);
  if (!t) return TC_ACT_OK;
  __u32 zero = 0;
  struct rf_control *ctl = bpf_map_lookup_elem(&rf_control_map, &zero);
  struct rf_counts *c = bpf_map_lookup_elem(&rf_counts_map, &zero);
  if (!ctl || !c || ctl->mode == RF_PASS) return TC_ACT_OK;
  /* The safety net's clock, read once per 1024 datagrams per CPU (each read costs more than a bounce's
   * whole program otherwise); a late look only lets one CPU bounce up to 1023 more. */
  if ((c->seen++ & 1023) == 0) c->expired = bpf_ktime_get_ns() > ctl->until_ns;
  if (c->expired) return TC_ACT_OK;
  if (t->kind == RF_CLIENT_CHANNEL && (*first & 0xC0) != 0x40) return TC_ACT_OK; /* STUN: to the socket */
  if (t->kind != RF_PEER && ctl->mode == RF_DRAIN) {
    count(c, skb, RF_DRAINED);
    return TC_ACT_OK;
  }
  count(c, skb, t->kind == RF_PEER ? RF_AT_PEER : RF_AT_CLIENT);

  __u8 mac[ETH_ALEN];
  __builtin_memcpy(mac, eth->h_dest, ETH_ALEN);
  __builtin_memcpy(eth->h_dest, eth->h_source, ETH_ALEN);
  __builtin_memcpy(eth->h_source, mac, ETH_ALEN);
  __u32 addr = ip->saddr;
  ip->saddr = ip->daddr;
  ip->daddr = addr;
  __u16 port = udp->source;
  udp->source = udp->dest;
  udp->dest = port;
  return bpf_redirect(skb->ifindex, 0); /* back out of the device it came in on */
}

char LICENSE[] SEC("license") = "GPL";
