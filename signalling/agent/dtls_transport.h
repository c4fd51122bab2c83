// DTLS 1.2 over a datagram path the caller owns (here: the nominated ICE pair), with OpenSSL memory
// BIOs: the caller feeds datagrams in and takes datagrams out, so this class never touches a socket.
// Each side makes a fresh self-signed ECDSA P-256 certificate; its SHA-256 fingerprint travels in the
// signed signalling offer/answer, and the handshake is refused unless the peer's certificate has the
// fingerprint its signed offer/answer announced (RFC 8122 / RFC 5763 style). The use_srtp extension
// (RFC 5764) is negotiated so that SRTP keys can be exported from the same handshake.
#pragma once

#include <array>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "rendezvous/base/bytes.h"
#include "rendezvous/base/result.h"

typedef struct ssl_st SSL;
typedef struct ssl_ctx_st SSL_CTX;
typedef struct x509_st X509;
typedef struct evp_pkey_st EVP_PKEY;

namespace rdv::agent {

// SRTP_AES128_CM_SHA1_80 master keys and salts from the DTLS-SRTP exporter (RFC 5764 §4.2).
struct SrtpKeys {
  std::array<uint8_t, 30> client{};  // key (16) || salt (14) the DTLS client protects with
  std::array<uint8_t, 30> server{};  // the DTLS server's
};

class DtlsTransport {
 public:
  enum class Role { Client, Server };
  // Fresh: a certificate of its own. Shared: the process's one certificate (made once, by
  // prepareCertificate() or on first use), as browsers share one across connections: the peer checks it
  // against the fingerprint in our signed offer/answer, so reusing it is safe, and a session no longer
  // waits for a P-256 key generation and a signature.
  enum class Certificate { Fresh, Shared };
  static bool prepareCertificate();
  static Result<std::unique_ptr<DtlsTransport>, std::string> create(Role role, Certificate certificate = Certificate::Fresh);
  ~DtlsTransport();
  DtlsTransport(const DtlsTransport&) = delete;
  DtlsTransport& operator=(const DtlsTransport&) = delete;

  // "sha-256 AB:CD:..." (SDP a=fingerprint form) of our certificate.
  const std::string& localFingerprint() const { return localFingerprint_; }
  // What the peer's signed offer/answer announced; checked when the handshake completes.
  void setRemoteFingerprint(const std::string& fingerprint) { remoteFingerprint_ = fingerprint; }
  Role role() const { return role_; }
  // Changes the role before the handshake started (the a=setup of a WebRTC answer decides it).
  void setRole(Role role);

  // The client sends its ClientHello; the server waits for one.
  void start();
  // A datagram from the peer (first byte 20..63, RFC 7983).
  void handleDatagram(ByteSpan datagram);
  // Encrypts one application record; false before the handshake completed or after a failure.
  bool send(ByteSpan plaintext);
  // Retransmits handshake flights when due (call at least every 50 ms while handshaking).
  void handleTimeout();

  std::vector<Bytes> takeOutgoing();  // datagrams to put on the wire, in order
  std::vector<Bytes> takeReceived();  // decrypted application records, in order

  bool connected() const { return connected_; }
  bool failed() const { return !error_.empty(); }
  const std::string& error() const { return error_; }
  // The peer ended the association with a close_notify alert (failed() is true then too).
  bool closedByPeer() const { return closedByPeer_; }
  Result<SrtpKeys, std::string> exportSrtpKeys() const;

 private:
  DtlsTransport() = default;
  void drive();  // handshake or read, then collect output
  void fail(const std::string& why);
  bool verifyPeer();

  Role role_ = Role::Client;
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  std::string localFingerprint_;
  std::string remoteFingerprint_;
  bool started_ = false;
  bool connected_ = false;
  bool closedByPeer_ = false;
  std::string error_;
  std::vector<Bytes> outgoing_;
  std::vector<Bytes> received_;
};

// "sha-256 AB:CD:..." of a DER certificate.
std::string certificateFingerprint(X509* cert);

}  // namespace rdv::agent
