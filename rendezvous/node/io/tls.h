// TLS over memory BIOs (OpenSSL): the I/O layer feeds ciphertext in and writes ciphertext out, so TLS
// needs no socket of its own and runs on the worker's event loop.
#pragma once

#include <memory>
#include <string>

#include "rendezvous/base/bytes.h"
#include "rendezvous/base/result.h"

typedef struct ssl_ctx_st SSL_CTX;
typedef struct ssl_st SSL;

namespace rdv::node {

class TlsContext {
 public:
  // Loads a PEM certificate chain and private key; TLS 1.2 and newer.
  static Result<std::shared_ptr<TlsContext>, std::string> server(const std::string& certFile,
                                                                 const std::string& keyFile);
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;
  SSL_CTX* raw() const { return ctx_; }

 private:
  explicit TlsContext(SSL_CTX* ctx) : ctx_(ctx) {}
  SSL_CTX* ctx_;
};

class TlsSession {
 public:
  explicit TlsSession(std::shared_ptr<TlsContext> ctx);
  ~TlsSession();
  TlsSession(const TlsSession&) = delete;
  TlsSession& operator=(const TlsSession&) = delete;

  // Feeds received ciphertext; appends decrypted application bytes to `plaintext`.
  // Returns false when the session failed (bad handshake, protocol error): close the connection.
  bool receive(ByteSpan ciphertext, Bytes& plaintext);
  // Encrypts application bytes (buffered inside OpenSSL until the handshake is done).
  bool send(ByteSpan plaintext);
  // Ciphertext waiting to go out on the socket.
  Bytes takeOutgoing();
  // The same into `out` (replacing its contents), reusing its capacity.
  void takeOutgoing(Bytes& out);
  bool handshakeDone() const;
  const std::string& error() const { return error_; }

 private:
  bool pump(Bytes* plaintext);
  std::shared_ptr<TlsContext> ctx_;
  SSL* ssl_ = nullptr;
  Bytes pendingPlain_;  // written before the handshake completed
  std::string error_;
};

}  // namespace rdv::node
