#include "signalling/agent/dtls_transport.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cstdio>

#include "rendezvous/base/constant_time.h"

namespace rdv::agent {

namespace {

constexpr int kMtu = 1200;  // fits a TURN ChannelData frame on any sane path

std::string sslError() {
  const unsigned long e = ERR_get_error();
  if (e == 0) return "unknown OpenSSL error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof(buf));
  ERR_clear_error();
  return buf;
}

// The write side of the SSL object: every BIO_write is one datagram (OpenSSL writes one DTLS record
// or flight segment per call), appended to the std::vector<Bytes> in the BIO's data. A memory BIO
// would merge datagrams (OpenSSL 3.0 has no datagram memory BIO).
int packetWrite(BIO* b, const char* data, int len) {
  auto* out = static_cast<std::vector<Bytes>*>(BIO_get_data(b));
  if (len <= 0) return 0;
  out->emplace_back(reinterpret_cast<const uint8_t*>(data), reinterpret_cast<const uint8_t*>(data) + len);
  return len;
}

long packetCtrl(BIO*, int cmd, long, void*) {
  switch (cmd) {
    case BIO_CTRL_FLUSH:
      return 1;
    case BIO_CTRL_DGRAM_QUERY_MTU:
    case BIO_CTRL_DGRAM_GET_FALLBACK_MTU:
      return kMtu;
    default:
      return 0;
  }
}

int packetCreate(BIO* b) {
  BIO_set_init(b, 1);
  return 1;
}

BIO_METHOD* packetMethod() {
  static BIO_METHOD* method = [] {
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "rdv-dtls-packets");
    BIO_meth_set_write(m, packetWrite);
    BIO_meth_set_ctrl(m, packetCtrl);
    BIO_meth_set_create(m, packetCreate);
    return m;
  }();
  return method;
}

// Accept any certificate during the handshake: the fingerprint check after it is the authentication.
int acceptAnyCertificate(int, X509_STORE_CTX*) { return 1; }

struct KeyAndCert {
  EVP_PKEY* key = nullptr;
  X509* cert = nullptr;
  ~KeyAndCert() {
    EVP_PKEY_free(key);
    X509_free(cert);
  }
};

bool makeSelfSigned(KeyAndCert& kc) {
  kc.key = EVP_EC_gen("P-256");
  if (!kc.key) return false;
  kc.cert = X509_new();
  if (!kc.cert) return false;
  uint8_t serial[8];
  if (RAND_bytes(serial, sizeof(serial)) != 1) return false;
  serial[0] &= 0x7F;
  BIGNUM* bn = BN_bin2bn(serial, sizeof(serial), nullptr);
  const bool serialOk = bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(kc.cert)) != nullptr;
  BN_free(bn);
  if (!serialOk) return false;
  X509_set_version(kc.cert, 2);
  X509_gmtime_adj(X509_getm_notBefore(kc.cert), -86400);
  X509_gmtime_adj(X509_getm_notAfter(kc.cert), 30L * 86400);
  X509_NAME* name = X509_get_subject_name(kc.cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("rdv"), -1, -1, 0);
  X509_set_issuer_name(kc.cert, name);
  if (X509_set_pubkey(kc.cert, kc.key) != 1) return false;
  return X509_sign(kc.cert, kc.key, EVP_sha256()) > 0;
}

// One certificate per process, made once (thread-safe) and shared by every session, as browsers share
// a PeerConnection certificate: the peer authenticates it by the fingerprint in our signed offer/answer,
// never by its validity dates, so a long-running listener can keep it. Making it (P-256 key generation
// and a signature) no longer sits on the way to a session's offer or answer.
const KeyAndCert* processCertificate() {
  static const KeyAndCert* shared = [] {
    auto* kc = new KeyAndCert();  // lives as long as the process
    if (!makeSelfSigned(*kc)) {
      delete kc;
      return static_cast<KeyAndCert*>(nullptr);
    }
    return kc;
  }();
  return shared;
}

}  // namespace

bool DtlsTransport::prepareCertificate() { return processCertificate() != nullptr; }

std::string certificateFingerprint(X509* cert) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (X509_digest(cert, EVP_sha256(), md, &n) != 1) return {};
  std::string out = "sha-256 ";
  char hex[4];
  for (unsigned i = 0; i < n; ++i) {
    std::snprintf(hex, sizeof(hex), i + 1 < n ? "%02X:" : "%02X", md[i]);
    out += hex;
  }
  return out;
}

Result<std::unique_ptr<DtlsTransport>, std::string> DtlsTransport::create(Role role, Certificate certificate) {
  std::unique_ptr<DtlsTransport> t(new DtlsTransport());
  t->role_ = role;
  KeyAndCert fresh;
  const KeyAndCert* shared = certificate == Certificate::Shared ? processCertificate() : nullptr;
  if (certificate == Certificate::Shared ? !shared : !makeSelfSigned(fresh))
    return unexpected("DTLS certificate: " + sslError());
  const KeyAndCert& kc = shared ? *shared : fresh;
  t->ctx_ = SSL_CTX_new(DTLS_method());
  if (!t->ctx_) return unexpected("DTLS context: " + sslError());
  SSL_CTX_set_min_proto_version(t->ctx_, DTLS1_2_VERSION);
  if (SSL_CTX_use_certificate(t->ctx_, kc.cert) != 1 || SSL_CTX_use_PrivateKey(t->ctx_, kc.key) != 1)
    return unexpected("DTLS certificate: " + sslError());
  SSL_CTX_set_verify(t->ctx_, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, acceptAnyCertificate);
  // RFC 5764 use_srtp: returns 0 on success.
  if (SSL_CTX_set_tlsext_use_srtp(t->ctx_, "SRTP_AES128_CM_SHA1_80") != 0)
    return unexpected("DTLS use_srtp: " + sslError());
  t->ssl_ = SSL_new(t->ctx_);
  if (!t->ssl_) return unexpected("DTLS session: " + sslError());
  BIO* rbio = BIO_new(BIO_s_mem());
  BIO* wbio = BIO_new(packetMethod());
  if (!rbio || !wbio) {
    BIO_free(rbio);
    BIO_free(wbio);
    return unexpected("DTLS BIO: " + sslError());
  }
  BIO_set_mem_eof_return(rbio, -1);
  BIO_set_data(wbio, &t->outgoing_);
  SSL_set_bio(t->ssl_, rbio, wbio);
  SSL_set_options(t->ssl_, SSL_OP_NO_QUERY_MTU);
  SSL_set_mtu(t->ssl_, kMtu);
  DTLS_set_link_mtu(t->ssl_, kMtu);
  if (role == Role::Client)
    SSL_set_connect_state(t->ssl_);
  else
    SSL_set_accept_state(t->ssl_);
  t->localFingerprint_ = certificateFingerprint(kc.cert);
  if (t->localFingerprint_.empty()) return unexpected(std::string("DTLS certificate fingerprint failed"));
  return t;
}

DtlsTransport::~DtlsTransport() {
  if (ssl_) SSL_free(ssl_);
  if (ctx_) SSL_CTX_free(ctx_);
}

void DtlsTransport::fail(const std::string& why) {
  if (error_.empty()) error_ = why;
}

bool DtlsTransport::verifyPeer() {
  X509* peer = SSL_get1_peer_certificate(ssl_);
  if (!peer) {
    fail("the peer presented no DTLS certificate");
    return false;
  }
  const std::string got = certificateFingerprint(peer);
  X509_free(peer);
  if (remoteFingerprint_.empty()) {
    fail("no signed fingerprint for the peer's DTLS certificate");
    return false;
  }
  if (!constantTimeEqual(asBytes(got), asBytes(remoteFingerprint_))) {
    fail("dtls-fingerprint-mismatch: the peer's DTLS certificate is " + got + ", its signed offer/answer said " +
         remoteFingerprint_);
    return false;
  }
  return true;
}

void DtlsTransport::setRole(Role role) {
  if (started_ || role == role_) return;
  role_ = role;
  if (role == Role::Client)
    SSL_set_connect_state(ssl_);
  else
    SSL_set_accept_state(ssl_);
}

void DtlsTransport::start() {
  started_ = true;
  drive();
}

void DtlsTransport::drive() {
  if (failed() || !started_) return;
  if (!connected_) {
    // SSL_get_error() answers SSL_ERROR_SSL while this thread's error queue holds anything, whoever left
    // it there (another session's failed handshake, a refused certificate in the same thread): each call
    // starts from an empty queue, as node/io/tls.cpp and client/net.cpp do.
    ERR_clear_error();
    const int r = SSL_do_handshake(ssl_);
    if (r == 1) {
      if (verifyPeer()) {
        connected_ = true;
      } else {
        SSL_shutdown(ssl_);  // queues a close_notify alert for the peer
      }
    } else {
      const int e = SSL_get_error(ssl_, r);
      if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) fail("DTLS handshake failed: " + sslError());
    }
  }
  if (connected_) {
    uint8_t buf[16384];
    while (true) {
      ERR_clear_error();
      const int n = SSL_read(ssl_, buf, sizeof(buf));
      if (n > 0) {
        received_.emplace_back(buf, buf + n);
        continue;
      }
      const int e = SSL_get_error(ssl_, n);
      if (e == SSL_ERROR_ZERO_RETURN) {
        closedByPeer_ = true;
        fail("the peer closed the DTLS association");
      }
      else if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) fail("DTLS read failed: " + sslError());
      break;
    }
  }
}

void DtlsTransport::handleDatagram(ByteSpan datagram) {
  if (failed() || datagram.empty()) return;
  if (!started_) started_ = true;  // the server starts with the first ClientHello
  BIO_write(SSL_get_rbio(ssl_), datagram.data(), static_cast<int>(datagram.size()));
  drive();
}

bool DtlsTransport::send(ByteSpan plaintext) {
  if (!connected_ || failed()) return false;
  ERR_clear_error();
  const int n = SSL_write(ssl_, plaintext.data(), static_cast<int>(plaintext.size()));
  drive();
  return n == static_cast<int>(plaintext.size());
}

void DtlsTransport::handleTimeout() {
  if (connected_ || failed() || !started_) return;
  if (DTLSv1_handle_timeout(ssl_) < 0) fail("DTLS handshake timed out");
  drive();
}

std::vector<Bytes> DtlsTransport::takeOutgoing() {
  std::vector<Bytes> out;
  out.swap(outgoing_);
  return out;
}

std::vector<Bytes> DtlsTransport::takeReceived() {
  std::vector<Bytes> out;
  out.swap(received_);
  return out;
}

Result<SrtpKeys, std::string> DtlsTransport::exportSrtpKeys() const {
  if (!connected_) return unexpected(std::string("DTLS not connected"));
  const SRTP_PROTECTION_PROFILE* profile = SSL_get_selected_srtp_profile(ssl_);
  if (!profile || profile->id != SRTP_AES128_CM_SHA1_80)
    return unexpected(std::string("the peer did not negotiate SRTP_AES128_CM_SHA1_80 (use_srtp)"));
  // RFC 5764 §4.2: client key, server key, client salt, server salt.
  uint8_t material[2 * (16 + 14)];
  static const char kLabel[] = "EXTRACTOR-dtls_srtp";
  if (SSL_export_keying_material(ssl_, material, sizeof(material), kLabel, sizeof(kLabel) - 1, nullptr, 0, 0) != 1)
    return unexpected("DTLS-SRTP exporter: " + sslError());
  SrtpKeys k;
  std::copy(material, material + 16, k.client.begin());
  std::copy(material + 16, material + 32, k.server.begin());
  std::copy(material + 32, material + 46, k.client.begin() + 16);
  std::copy(material + 46, material + 60, k.server.begin() + 16);
  return k;
}

}  // namespace rdv::agent
