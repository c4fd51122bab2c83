// The SDP of a WebRTC data-channel session (RFC 8866 syntax; JSEP, RFC 8829): what Chromium puts in
// an offer or answer for one `m=application ... UDP/DTLS/SCTP webrtc-datachannel` section, reduced to
// what the agent needs (ICE credentials, DTLS fingerprint and role, SCTP port, candidates), and the
// text the agent sends back. Pure functions over strings.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "rendezvous/base/result.h"

namespace rdv::agent {

struct DataChannelSdp {
  std::string iceUfrag;
  std::string icePwd;
  std::string fingerprint;  // "sha-256 AB:CD:..." (upper-case hex, as DtlsTransport writes it)
  std::string setup;        // actpass | active | passive (RFC 4145 / RFC 8842)
  std::string mid = "0";
  uint16_t sctpPort = 5000;
  uint64_t maxMessageSize = 65536;  // RFC 8841 §6: the default when absent
  std::vector<std::string> candidates;  // "candidate:..." (no "a=")
  bool endOfCandidates = false;
};

// Parses an offer or answer. Refuses a description without exactly one data-channel section, ICE
// credentials, a sha-256 fingerprint, or with media sections (audio/video) the agent cannot answer.
Result<DataChannelSdp, std::string> parseDataChannelSdp(std::string_view sdp);

// An offer (setup actpass) or an answer (setup as given), CRLF line endings.
std::string buildDataChannelSdp(const DataChannelSdp& d, uint64_t sessionId);

// "a=candidate:..." (libnice) <-> "candidate:..." (RTCIceCandidate.candidate).
std::string toRtcCandidate(std::string_view niceLine);
std::string toNiceCandidate(std::string_view rtcLine);

}  // namespace rdv::agent
