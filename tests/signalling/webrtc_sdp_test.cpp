// The data-channel SDP the agent reads and writes: an offer in the shape Chromium writes for
// createDataChannel() alone (session-level BUNDLE, one m=application section), Firefox's habit of
// session-level fingerprints, refusals, and our own offer/answer read back.
#include <gtest/gtest.h>

#include "signalling/agent/webrtc_sdp.h"

namespace rdv::agent {
namespace {

const std::string kFingerprint =
    "6B:8B:F0:65:5F:78:E2:51:3B:AC:6F:F3:3F:46:1B:35:DC:B8:5F:64:1A:24:C2:43:F0:A1:58:D0:A1:2C:19:08";

std::string chromiumOffer() {
  return "v=0\r\n"
         "o=- 4611731400430051336 2 IN IP4 127.0.0.1\r\n"
         "s=-\r\n"
         "t=0 0\r\n"
         "a=group:BUNDLE 0\r\n"
         "a=extmap-allow-mixed\r\n"
         "a=msid-semantic: WMS\r\n"
         "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n"
         "c=IN IP4 0.0.0.0\r\n"
         "a=candidate:1467250027 1 udp 2122260223 127.0.0.1 46243 typ host generation 0 network-id 1\r\n"
         "a=ice-ufrag:Lj7f\r\n"
         "a=ice-pwd:5Zp0bbLLoPUaFsCQjjbMV1tM\r\n"
         "a=ice-options:trickle\r\n"
         "a=fingerprint:sha-256 " + kFingerprint + "\r\n"
         "a=setup:actpass\r\n"
         "a=mid:0\r\n"
         "a=sctp-port:5000\r\n"
         "a=max-message-size:262144\r\n";
}

TEST(WebRtcSdp, ReadsAChromiumStyleOffer) {
  auto d = parseDataChannelSdp(chromiumOffer());
  ASSERT_TRUE(d) << d.error();
  EXPECT_EQ(d->iceUfrag, "Lj7f");
  EXPECT_EQ(d->icePwd, "5Zp0bbLLoPUaFsCQjjbMV1tM");
  EXPECT_EQ(d->fingerprint, "sha-256 " + kFingerprint);
  EXPECT_EQ(d->setup, "actpass");
  EXPECT_EQ(d->mid, "0");
  EXPECT_EQ(d->sctpPort, 5000);
  EXPECT_EQ(d->maxMessageSize, 262144u);
  ASSERT_EQ(d->candidates.size(), 1u);
  EXPECT_EQ(d->candidates[0], "candidate:1467250027 1 udp 2122260223 127.0.0.1 46243 typ host generation 0 network-id 1");
}

TEST(WebRtcSdp, SessionLevelAttributesApplyAndFingerprintsAreNormalised) {
  std::string lowerHex = kFingerprint;
  for (auto& c : lowerHex) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const std::string sdp = "v=0\no=- 1 1 IN IP4 0.0.0.0\ns=-\nt=0 0\na=fingerprint:SHA-256 " + lowerHex +
                          "\na=ice-ufrag:abcd\na=ice-pwd:0123456789012345678901\n"
                          "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\na=mid:data\na=setup:active\n";
  auto d = parseDataChannelSdp(sdp);
  ASSERT_TRUE(d) << d.error();
  EXPECT_EQ(d->fingerprint, "sha-256 " + kFingerprint);
  EXPECT_EQ(d->iceUfrag, "abcd");
  EXPECT_EQ(d->mid, "data");
  EXPECT_EQ(d->setup, "active");
  EXPECT_EQ(d->maxMessageSize, 65536u);  // RFC 8841's default
}

TEST(WebRtcSdp, RefusesWhatTheAgentCannotAnswer) {
  EXPECT_FALSE(parseDataChannelSdp(""));
  EXPECT_FALSE(parseDataChannelSdp("v=0\r\n"));
  std::string withAudio = chromiumOffer() + "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:1\r\n";
  EXPECT_FALSE(parseDataChannelSdp(withAudio));
  std::string noFingerprint = chromiumOffer();
  noFingerprint.erase(noFingerprint.find("a=fingerprint"), noFingerprint.find("a=setup") - noFingerprint.find("a=fingerprint"));
  EXPECT_FALSE(parseDataChannelSdp(noFingerprint));
  std::string sha1 = chromiumOffer();
  sha1.replace(sha1.find("sha-256"), 7, "sha-1");
  EXPECT_FALSE(parseDataChannelSdp(sha1));
  std::string badSetup = chromiumOffer();
  badSetup.replace(badSetup.find("actpass"), 7, "holdconn");
  EXPECT_FALSE(parseDataChannelSdp(badSetup));
  std::string badPort = chromiumOffer();
  badPort.replace(badPort.find("sctp-port:5000"), 14, "sctp-port:99999");
  EXPECT_FALSE(parseDataChannelSdp(badPort));
  EXPECT_FALSE(parseDataChannelSdp(std::string(70 * 1024, 'a')));
}

TEST(WebRtcSdp, OurAnswerReadsBack) {
  DataChannelSdp d;
  d.iceUfrag = "u1x2";
  d.icePwd = "p0123456789012345678901";
  d.fingerprint = "sha-256 " + kFingerprint;
  d.setup = "passive";
  d.mid = "0";
  d.maxMessageSize = 262144;
  d.candidates = {"candidate:1 1 UDP 2015363327 127.0.0.1 40000 typ host"};
  const std::string text = buildDataChannelSdp(d, 42);
  EXPECT_NE(text.find("m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n"), std::string::npos);
  EXPECT_NE(text.find("a=group:BUNDLE 0\r\n"), std::string::npos);
  auto back = parseDataChannelSdp(text);
  ASSERT_TRUE(back) << back.error();
  EXPECT_EQ(back->iceUfrag, d.iceUfrag);
  EXPECT_EQ(back->icePwd, d.icePwd);
  EXPECT_EQ(back->fingerprint, d.fingerprint);
  EXPECT_EQ(back->setup, "passive");
  EXPECT_EQ(back->candidates, d.candidates);
}

TEST(WebRtcSdp, CandidateLinesConvertBothWays) {
  EXPECT_EQ(toRtcCandidate("a=candidate:1 1 UDP 2015363327 127.0.0.1 40000 typ host"),
            "candidate:1 1 UDP 2015363327 127.0.0.1 40000 typ host");
  EXPECT_EQ(toNiceCandidate("candidate:1 1 udp 1 1.2.3.4 5 typ host generation 0"),
            "a=candidate:1 1 udp 1 1.2.3.4 5 typ host generation 0");
  EXPECT_EQ(toNiceCandidate("a=candidate:x"), "a=candidate:x");
}

}  // namespace
}  // namespace rdv::agent
