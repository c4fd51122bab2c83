#include "signalling/agent/webrtc_sdp.h"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace rdv::agent {

namespace {

constexpr size_t kMaxSdp = 64 * 1024;
constexpr size_t kMaxCandidates = 64;

bool startsWith(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

std::string upper(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return out;
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

template <typename T>
bool number(std::string_view s, T& out) {
  const auto r = std::from_chars(s.data(), s.data() + s.size(), out);
  return r.ec == std::errc{} && r.ptr == s.data() + s.size();
}

// "sha-256 ab:cd..." -> "sha-256 AB:CD..." (only sha-256: what both ends here use).
std::string fingerprintOf(std::string_view value) {
  const auto space = value.find(' ');
  if (space == std::string_view::npos || lower(value.substr(0, space)) != "sha-256") return {};
  std::string_view hex = value.substr(space + 1);
  while (!hex.empty() && hex.front() == ' ') hex.remove_prefix(1);
  if (hex.size() != 32 * 3 - 1) return {};
  for (size_t i = 0; i < hex.size(); ++i)
    if (i % 3 == 2 ? hex[i] != ':' : !std::isxdigit(static_cast<unsigned char>(hex[i]))) return {};
  return "sha-256 " + upper(hex);
}

}  // namespace

Result<DataChannelSdp, std::string> parseDataChannelSdp(std::string_view sdp) {
  if (sdp.size() > kMaxSdp) return unexpected(std::string("the SDP is too long"));
  DataChannelSdp d;
  std::string sessionUfrag, sessionPwd, sessionFingerprint, sessionSetup;
  enum class Section { Session, DataChannel, Other } section = Section::Session;
  int dataSections = 0;
  bool sawMid = false;
  while (!sdp.empty()) {
    const auto eol = sdp.find('\n');
    std::string_view line = sdp.substr(0, eol);
    sdp = eol == std::string_view::npos ? std::string_view{} : sdp.substr(eol + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (startsWith(line, "m=")) {
      if (startsWith(line, "m=application ") && line.find("webrtc-datachannel") != std::string_view::npos &&
          line.find("DTLS/SCTP") != std::string_view::npos) {
        section = Section::DataChannel;
        ++dataSections;
      } else {
        section = Section::Other;
        return unexpected("the SDP has a section the agent cannot answer: " + std::string(line.substr(0, 40)));
      }
      continue;
    }
    if (!startsWith(line, "a=")) continue;
    const std::string_view attr = line.substr(2);
    const auto colon = attr.find(':');
    const std::string_view name = attr.substr(0, colon);
    const std::string_view value = colon == std::string_view::npos ? std::string_view{} : attr.substr(colon + 1);
    const bool media = section == Section::DataChannel;
    if (name == "ice-ufrag") (media ? d.iceUfrag : sessionUfrag) = value;
    else if (name == "ice-pwd") (media ? d.icePwd : sessionPwd) = value;
    else if (name == "fingerprint") (media ? d.fingerprint : sessionFingerprint) = fingerprintOf(value);
    else if (name == "setup") (media ? d.setup : sessionSetup) = value;
    else if (!media) continue;
    else if (name == "mid") d.mid = value, sawMid = true;
    else if (name == "sctp-port" && !number(value, d.sctpPort)) return unexpected(std::string("bad a=sctp-port"));
    else if (name == "max-message-size" && !number(value, d.maxMessageSize)) return unexpected(std::string("bad a=max-message-size"));
    else if (name == "candidate" && d.candidates.size() < kMaxCandidates) d.candidates.emplace_back(attr);
    else if (name == "end-of-candidates") d.endOfCandidates = true;
  }
  if (dataSections != 1) return unexpected(std::string("the SDP has no single data-channel section (m=application ... webrtc-datachannel)"));
  if (d.iceUfrag.empty()) d.iceUfrag = sessionUfrag;
  if (d.icePwd.empty()) d.icePwd = sessionPwd;
  if (d.fingerprint.empty()) d.fingerprint = sessionFingerprint;
  if (d.setup.empty()) d.setup = sessionSetup;
  if (d.iceUfrag.empty() || d.icePwd.empty()) return unexpected(std::string("the SDP has no a=ice-ufrag/a=ice-pwd"));
  if (d.fingerprint.empty()) return unexpected(std::string("the SDP has no a=fingerprint:sha-256"));
  if (d.setup.empty()) d.setup = "actpass";
  if (d.setup != "actpass" && d.setup != "active" && d.setup != "passive")
    return unexpected("unknown a=setup:" + d.setup);
  if (!sawMid) d.mid = "0";
  return d;
}

std::string buildDataChannelSdp(const DataChannelSdp& d, uint64_t sessionId) {
  std::string s;
  s += "v=0\r\n";
  s += "o=- " + std::to_string(sessionId) + " 2 IN IP4 127.0.0.1\r\n";
  s += "s=-\r\n";
  s += "t=0 0\r\n";
  s += "a=group:BUNDLE " + d.mid + "\r\n";
  s += "a=msid-semantic: WMS\r\n";
  s += "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n";
  s += "c=IN IP4 0.0.0.0\r\n";
  s += "a=ice-ufrag:" + d.iceUfrag + "\r\n";
  s += "a=ice-pwd:" + d.icePwd + "\r\n";
  s += "a=ice-options:trickle\r\n";
  s += "a=fingerprint:" + d.fingerprint + "\r\n";
  s += "a=setup:" + d.setup + "\r\n";
  s += "a=mid:" + d.mid + "\r\n";
  s += "a=sctp-port:" + std::to_string(d.sctpPort) + "\r\n";
  s += "a=max-message-size:" + std::to_string(d.maxMessageSize) + "\r\n";
  for (const auto& c : d.candidates) s += "a=" + c + "\r\n";
  if (d.endOfCandidates) s += "a=end-of-candidates\r\n";
  return s;
}

std::string toRtcCandidate(std::string_view niceLine) {
  if (startsWith(niceLine, "a=")) niceLine.remove_prefix(2);
  return std::string(niceLine);
}

std::string toNiceCandidate(std::string_view rtcLine) {
  if (startsWith(rtcLine, "a=")) return std::string(rtcLine);
  return "a=" + std::string(rtcLine);
}

}  // namespace rdv::agent
