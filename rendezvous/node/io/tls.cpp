#include "rendezvous/node/io/tls.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

namespace rdv::node {

namespace {
std::string opensslError(const std::string& what) {
  const unsigned long e = ERR_get_error();
  char buf[256];
  ERR_error_string_n(e, buf, sizeof(buf));
  ERR_clear_error();
  return what + ": " + (e ? buf : "unknown error");
}
}  // namespace

Result<std::shared_ptr<TlsContext>, std::string> TlsContext::server(const std::string& certFile,
                                                                   const std::string& keyFile) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  if (!ctx) return unexpected(opensslError("SSL_CTX_new"));
  std::shared_ptr<TlsContext> owner(new TlsContext(ctx));
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION);
  if (SSL_CTX_use_certificate_chain_file(ctx, certFile.c_str()) != 1)
    return unexpected(opensslError("cannot load certificate '" + certFile + "'"));
  if (SSL_CTX_use_PrivateKey_file(ctx, keyFile.c_str(), SSL_FILETYPE_PEM) != 1)
    return unexpected(opensslError("cannot load private key '" + keyFile + "'"));
  if (SSL_CTX_check_private_key(ctx) != 1)
    return unexpected(opensslError("key '" + keyFile + "' does not match certificate '" + certFile + "'"));
  return owner;
}

TlsContext::~TlsContext() { SSL_CTX_free(ctx_); }

TlsSession::TlsSession(std::shared_ptr<TlsContext> ctx) : ctx_(std::move(ctx)) {
  ssl_ = SSL_new(ctx_->raw());
  if (!ssl_) {
    error_ = opensslError("SSL_new");
    return;
  }
  BIO* rbio = BIO_new(BIO_s_mem());
  BIO* wbio = BIO_new(BIO_s_mem());
  if (!rbio || !wbio) {
    BIO_free(rbio);
    BIO_free(wbio);
    SSL_free(ssl_);
    ssl_ = nullptr;
    error_ = "BIO_new failed";
    return;
  }
  SSL_set_bio(ssl_, rbio, wbio);  // the SSL owns both BIOs from here
  SSL_set_accept_state(ssl_);
}

TlsSession::~TlsSession() { SSL_free(ssl_); }

bool TlsSession::handshakeDone() const { return ssl_ && SSL_is_init_finished(ssl_); }

bool TlsSession::receive(ByteSpan ciphertext, Bytes& plaintext) {
  if (!ssl_) return false;
  if (!ciphertext.empty() &&
      BIO_write(SSL_get_rbio(ssl_), ciphertext.data(), static_cast<int>(ciphertext.size())) <= 0) {
    error_ = "BIO_write failed";
    return false;
  }
  return pump(&plaintext);
}

// OpenSSL keeps one error queue per thread, and SSL_get_error() answers SSL_ERROR_SSL whenever it holds
// anything, whatever the call it is asked about did. A worker thread serves many connections and makes
// other OpenSSL calls (HMAC, digests): an error one of them left would turn this connection's "no data
// yet" into a fatal error and close a healthy client. So the queue is emptied before each TLS I/O call
// (SSL_get_error(3)), and every failure below takes its error out (opensslError).
bool TlsSession::pump(Bytes* plaintext) {
  if (!SSL_is_init_finished(ssl_)) {
    ERR_clear_error();
    const int r = SSL_do_handshake(ssl_);
    if (r != 1) {
      const int e = SSL_get_error(ssl_, r);
      if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return true;
      error_ = opensslError("TLS handshake");
      return false;
    }
    if (!pendingPlain_.empty()) {
      Bytes p = std::move(pendingPlain_);
      pendingPlain_.clear();
      if (!send(p)) return false;
    }
  }
  uint8_t buf[16384];
  while (plaintext) {
    ERR_clear_error();
    const int n = SSL_read(ssl_, buf, sizeof(buf));
    if (n > 0) {
      plaintext->insert(plaintext->end(), buf, buf + n);
      continue;
    }
    const int e = SSL_get_error(ssl_, n);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return true;
    if (e == SSL_ERROR_ZERO_RETURN) return false;  // close_notify
    error_ = opensslError("TLS read");
    return false;
  }
  return true;
}

bool TlsSession::send(ByteSpan plaintext) {
  if (!ssl_) return false;
  if (!SSL_is_init_finished(ssl_)) {
    pendingPlain_.insert(pendingPlain_.end(), plaintext.begin(), plaintext.end());
    return true;
  }
  size_t off = 0;
  while (off < plaintext.size()) {
    ERR_clear_error();  // see pump()
    const int n = SSL_write(ssl_, plaintext.data() + off, static_cast<int>(plaintext.size() - off));
    if (n <= 0) {
      error_ = opensslError("TLS write");
      return false;
    }
    off += static_cast<size_t>(n);
  }
  return true;
}

Bytes TlsSession::takeOutgoing() {
  Bytes out;
  takeOutgoing(out);
  return out;
}

void TlsSession::takeOutgoing(Bytes& out) {
  out.clear();
  if (!ssl_) return;
  BIO* w = SSL_get_wbio(ssl_);
  const size_t pending = BIO_ctrl_pending(w);
  if (pending == 0) return;
  out.resize(pending);
  const int n = BIO_read(w, out.data(), static_cast<int>(pending));
  out.resize(n > 0 ? static_cast<size_t>(n) : 0);
}

}  // namespace rdv::node
