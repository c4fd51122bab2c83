// One direction of SRTP (libsrtp2), AES_CM_128_HMAC_SHA1_80, keyed from the DTLS-SRTP exporter.
#pragma once

#include <array>
#include <memory>
#include <string>

#include "rendezvous/base/bytes.h"
#include "rendezvous/base/result.h"

typedef struct srtp_ctx_t_ srtp_ctx_t;

namespace rdv::agent {

class SrtpSession {
 public:
  enum class Direction { Outbound, Inbound };
  // keyAndSalt: 16-byte master key || 14-byte master salt.
  // libsrtp's one-time initialisation (thread-safe; create() calls it too). The agent runs it on a thread
  // at start, so that the first DTLS-SRTP key setup does not pay for it on the way to the first byte.
  static bool initLibrary();
  static Result<std::unique_ptr<SrtpSession>, std::string> create(const std::array<uint8_t, 30>& keyAndSalt,
                                                                   Direction direction);
  ~SrtpSession();
  SrtpSession(const SrtpSession&) = delete;
  SrtpSession& operator=(const SrtpSession&) = delete;

  // RTP -> SRTP in place (grows by the auth tag); false on error.
  bool protect(Bytes& packet);
  // SRTP -> RTP in place; false when authentication or replay check fails.
  bool unprotect(Bytes& packet);

 private:
  SrtpSession() = default;
  srtp_ctx_t* ctx_ = nullptr;
};

}  // namespace rdv::agent
