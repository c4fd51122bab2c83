// Planning a batch of UDP sends, pure (no sockets): which datagrams go out together in one sendmmsg
// message with UDP GSO (a UDP_SEGMENT cmsg: the kernel cuts one buffer into equal datagrams), and which
// go alone. io/udp_batch.cpp performs the plan; tests/rendezvous/node/io/send_plan_test.cpp checks it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "rendezvous/base/address.h"

namespace rdv::node {

// One datagram to send: from which of the worker's sockets (any key: equal keys, same socket), to where,
// its size, its DF setting (relay sockets: RFC 8656 DONT-FRAGMENT), and whether that socket may use GSO
// (it may not once the kernel refused GSO on it).
struct SendItem {
  uint32_t socket = 0;
  Endpoint to;
  uint32_t size = 0;
  bool dontFragment = false;
  bool gso = true;
};

// Consecutive entries [first, first + count) of the order: `count` datagrams of `segment` bytes each (the
// last may be shorter), all from one socket to one destination. count == 1: a plain datagram.
struct SendRun {
  uint32_t first = 0;
  uint32_t count = 0;
  uint32_t segment = 0;
};

// Kernel limits for one GSO send: UDP_MAX_SEGMENTS is 64 on the kernels we support; a segment must fit
// the path MTU (1452: an IPv6 datagram on a 1500-byte link), and the whole buffer one IP datagram.
constexpr size_t kMaxGsoSegments = 64;
constexpr size_t kMaxGsoSegment = 1452;
constexpr size_t kMaxGsoBytes = 65000;

// The indices of `items` grouped by socket (in order of the socket key), each socket's items in their
// original order: a socket's datagrams leave in the order the engine produced them.
void orderBySocket(std::span<const SendItem> items, std::vector<uint32_t>& order);

// Cuts `order` into runs. A run grows while the next item has the same socket, destination and DF
// setting, GSO is allowed, the run's items so far all have the run's size and the next is not larger
// (a shorter one ends the run: only the last segment may be short), and the kernel limits above hold.
void planRuns(std::span<const SendItem> items, std::span<const uint32_t> order, std::vector<SendRun>& runs);

}  // namespace rdv::node
