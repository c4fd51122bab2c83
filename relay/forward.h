// A forwarding decision: the data path's answer for one relayed packet (RFC 8656 §10, §12), as firezone's
// relay hands its I/O layer a slice and a destination. The engine copies nothing: the payload is a slice
// (offset, length) of an input datagram of the current batch, sent behind an optional header (the 4-byte
// ChannelData header or a Data indication's header) and followed by zero padding where the framing needs
// it. A plain fixed-size record with no pointers, so the I/O layer can gather it with iovecs.
#pragma once

#include <array>
#include <cstdint>

#include "relay/types.h"
#include "rendezvous/base/address.h"
#include "rendezvous/base/bytes.h"

namespace rdv::relay {

struct Forward {
  // The largest header: a Data indication to an IPv6 peer (STUN header 20, XOR-PEER-ADDRESS 4 + 20,
  // DATA's attribute header 4).
  static constexpr size_t kMaxHeader = 48;

  enum class To : uint8_t { Peer, Client };
  To to = To::Peer;
  bool dontFragment = false;  // To::Peer: set DF on this datagram (RFC 8656 DONT-FRAGMENT)
  uint8_t headerSize = 0;     // bytes of `header` sent before the slice
  uint8_t padding = 0;        // zero bytes sent after the slice (STUN attribute padding; RFC 8656 §12.5 on streams)
  uint32_t input = 0;         // which input of the batch holds the payload
  uint32_t offset = 0;        // the payload: [offset, offset + length) of that input
  uint32_t length = 0;
  RelayPort relay;            // To::Peer: sent from this relay socket
  Endpoint peer;              // To::Peer: to this peer
  ClientTuple client;         // To::Client: on this 5-tuple (for streams: its connection)
  std::array<uint8_t, kMaxHeader> header{};

  size_t size() const { return size_t{headerSize} + length + padding; }
};

// The bytes a Forward stands for, appended to `out` (tests, and the engine's single-input calls).
inline void appendForwarded(const Forward& f, ByteSpan input, Bytes& out) {
  out.insert(out.end(), f.header.begin(), f.header.begin() + f.headerSize);
  const ByteSpan payload = input.subspan(f.offset, f.length);
  out.insert(out.end(), payload.begin(), payload.end());
  out.insert(out.end(), f.padding, uint8_t{0});
}

}  // namespace rdv::relay
