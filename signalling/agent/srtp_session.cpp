#include "signalling/agent/srtp_session.h"

#include <srtp2/srtp.h>

#include <cstring>
#include <mutex>

namespace rdv::agent {

bool SrtpSession::initLibrary() {
  // srtp_init runs libsrtp's crypto self-tests: tens of milliseconds, once per process.
  static std::once_flag once;
  static srtp_err_status_t initStatus = srtp_err_status_ok;
  std::call_once(once, [] { initStatus = srtp_init(); });
  return initStatus == srtp_err_status_ok;
}

Result<std::unique_ptr<SrtpSession>, std::string> SrtpSession::create(const std::array<uint8_t, 30>& keyAndSalt,
                                                                       Direction direction) {
  if (!initLibrary()) return unexpected(std::string("srtp_init failed"));
  srtp_policy_t policy;
  std::memset(&policy, 0, sizeof(policy));
  srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtp);
  srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtcp);
  policy.ssrc.type = direction == Direction::Outbound ? ssrc_any_outbound : ssrc_any_inbound;
  std::array<uint8_t, 30> key = keyAndSalt;
  policy.key = key.data();
  policy.window_size = 1024;
  policy.allow_repeat_tx = 0;
  policy.next = nullptr;
  std::unique_ptr<SrtpSession> s(new SrtpSession());
  if (srtp_create(&s->ctx_, &policy) != srtp_err_status_ok) {
    s->ctx_ = nullptr;
    return unexpected(std::string("srtp_create failed"));
  }
  return s;
}

SrtpSession::~SrtpSession() {
  if (ctx_) srtp_dealloc(ctx_);
}

bool SrtpSession::protect(Bytes& packet) {
  const size_t plain = packet.size();
  packet.resize(plain + SRTP_MAX_TRAILER_LEN);
  int len = static_cast<int>(plain);
  if (srtp_protect(ctx_, packet.data(), &len) != srtp_err_status_ok) {
    packet.resize(plain);
    return false;
  }
  packet.resize(static_cast<size_t>(len));
  return true;
}

bool SrtpSession::unprotect(Bytes& packet) {
  int len = static_cast<int>(packet.size());
  if (srtp_unprotect(ctx_, packet.data(), &len) != srtp_err_status_ok) return false;
  packet.resize(static_cast<size_t>(len));
  return true;
}

}  // namespace rdv::agent
