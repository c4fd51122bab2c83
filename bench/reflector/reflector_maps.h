/* The maps shared by the benchmark's reflector (reflector.bpf.c) and its driver (rdv-reflector, main.cpp).
 *
 * Plain C with fixed-size kernel types, padded by hand so clang -target bpf and g++ agree (static asserts
 * in main.cpp). Addresses and ports in network byte order, as they sit in the packet. */
#ifndef RDV_BENCH_REFLECTOR_MAPS_H
#define RDV_BENCH_REFLECTOR_MAPS_H

#include <linux/types.h>

/* A destination the reflector answers for: one of the load generator's client sockets, or the peer. */
struct rf_key {
  __u32 ip;   /* be */
  __u16 port; /* be */
  __u16 pad;
};

enum rf_kind {
  RF_CLIENT_CHANNEL = 1, /* a TURN client: ChannelData is bounced, STUN goes up to the socket */
  RF_CLIENT_RAW = 2,     /* a client of the raw forwarder: every datagram is bounced */
  RF_PEER = 3,           /* the peer: every datagram is bounced (the echoing peer) */
};

struct rf_target {
  __u32 kind; /* enum rf_kind */
  __u32 pad;
};

enum rf_mode {
  RF_PASS = 0,    /* everything goes up the stack (set-up, and after the run) */
  RF_REFLECT = 1, /* the run: bounce every datagram to a target */
  RF_DRAIN = 2,   /* the end: the peer still bounces, the clients' datagrams go up to their sockets */
};

struct rf_control {
  __u32 mode; /* enum rf_mode */
  __u32 pad;
  __u64 until_ns; /* CLOCK_MONOTONIC: past it the reflector passes everything (a driver killed mid-run
                     leaves no traffic circulating for ever) */
};

/* Counter slots (per CPU). A GSO datagram counts as its segments. */
enum rf_counter {
  RF_AT_CLIENT = 0, /* bounced at a client: relayed to the client, and the next round trip's first leg */
  RF_AT_PEER = 1,   /* bounced at the peer: relayed to the peer */
  RF_DRAINED = 2,   /* passed up to a client socket in RF_DRAIN */
  RF_COUNTERS = 3,
};

struct rf_counts {
  __u64 packets[RF_COUNTERS];
  __u64 bytes[RF_COUNTERS]; /* UDP payload bytes (the ChannelData header included at a TURN client) */
  __u64 seen;               /* datagrams for a target: the clock is read once per 1024 of them */
  __u64 expired;            /* rf_control.until_ns has passed (on this CPU's last look) */
};

#endif
