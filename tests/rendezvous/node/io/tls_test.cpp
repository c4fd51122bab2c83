// TlsSession (rendezvous/node/io/tls.cpp) against OpenSSL's own client over memory: the handshake and
// application data both ways, a broken handshake, and a healthy session that must not fail because this
// thread's OpenSSL error queue holds an error left by someone else (another connection, an HMAC).
#include "rendezvous/node/io/tls.h"

#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

namespace rdv::node {
namespace {

// A self-signed P-256 certificate made with the openssl command in a fresh directory.
struct CertFiles {
  CertFiles() {
    char tmpl[] = "/tmp/rdv-tls-test-XXXXXX";
    dir = ::mkdtemp(tmpl);
    cert = dir + "/cert.pem";
    key = dir + "/key.pem";
    const std::string cmd = "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout " + key +
                            " -out " + cert + " -days 2 -subj /CN=127.0.0.1 >/dev/null 2>&1";
    ok = std::system(cmd.c_str()) == 0;
  }
  ~CertFiles() { std::filesystem::remove_all(dir); }
  std::string dir, cert, key;
  bool ok = false;
};

// OpenSSL's client over memory BIOs, no verification (the server side is under test).
class MemoryClient {
 public:
  MemoryClient() {
    ctx_ = SSL_CTX_new(TLS_client_method());
    ssl_ = SSL_new(ctx_);
    SSL_set_bio(ssl_, BIO_new(BIO_s_mem()), BIO_new(BIO_s_mem()));
    SSL_set_connect_state(ssl_);
  }
  ~MemoryClient() {
    SSL_free(ssl_);
    SSL_CTX_free(ctx_);
  }
  void step() {
    ERR_clear_error();
    SSL_do_handshake(ssl_);
  }
  bool done() const { return SSL_is_init_finished(ssl_); }
  Bytes take() {
    Bytes out(BIO_ctrl_pending(SSL_get_wbio(ssl_)));
    const int n = out.empty() ? 0 : BIO_read(SSL_get_wbio(ssl_), out.data(), static_cast<int>(out.size()));
    out.resize(n > 0 ? static_cast<size_t>(n) : 0);
    return out;
  }
  void give(const Bytes& in) {
    if (!in.empty()) BIO_write(SSL_get_rbio(ssl_), in.data(), static_cast<int>(in.size()));
  }
  void write(const std::string& s) {
    ERR_clear_error();
    SSL_write(ssl_, s.data(), static_cast<int>(s.size()));
  }
  std::string read() {
    char buf[4096];
    ERR_clear_error();
    const int n = SSL_read(ssl_, buf, sizeof buf);
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
  }

 private:
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
};

// Runs the handshake to its end; false if the server session failed.
bool handshake(MemoryClient& client, TlsSession& server) {
  for (int i = 0; i < 10 && !(client.done() && server.handshakeDone()); ++i) {
    client.step();
    Bytes plain;
    if (!server.receive(client.take(), plain)) return false;
    client.give(server.takeOutgoing());
  }
  client.step();
  return client.done() && server.handshakeDone();
}

// An error in this thread's queue, as a failed OpenSSL call elsewhere leaves it.
void leaveAnError() { ERR_raise(ERR_LIB_X509, X509_R_CERT_ALREADY_IN_HASH_TABLE); }

TEST(TlsSession, HandshakeAndDataBothWays) {
  CertFiles files;
  ASSERT_TRUE(files.ok);
  auto ctx = TlsContext::server(files.cert, files.key);
  ASSERT_TRUE(ctx) << ctx.error();
  TlsSession server(*ctx);
  MemoryClient client;
  ASSERT_TRUE(handshake(client, server)) << server.error();
  client.write("ping");
  Bytes plain;
  ASSERT_TRUE(server.receive(client.take(), plain)) << server.error();
  EXPECT_EQ(std::string(plain.begin(), plain.end()), "ping");
  const std::string pong = "pong";
  ASSERT_TRUE(server.send(ByteSpan(reinterpret_cast<const uint8_t*>(pong.data()), pong.size())));
  client.give(server.takeOutgoing());
  EXPECT_EQ(client.read(), "pong");
}

TEST(TlsSession, GarbageHandshakeFailsWithAReason) {
  CertFiles files;
  ASSERT_TRUE(files.ok);
  auto ctx = TlsContext::server(files.cert, files.key);
  ASSERT_TRUE(ctx);
  TlsSession server(*ctx);
  const Bytes garbage = {0x16, 0x03, 0x01, 0x00, 0x08, 0x01, 0x00, 0x00, 0x04, 0xFF, 0xFF, 0xFF, 0xFF};
  Bytes plain;
  EXPECT_FALSE(server.receive(garbage, plain));
  EXPECT_FALSE(server.error().empty());
  EXPECT_EQ(ERR_peek_error(), 0u) << "a failed session leaves nothing in the thread's error queue";
}

// The bug behind "an open TURN-TLS connection stops answering after another client's handshake fails":
// an error left in the worker thread's queue made SSL_get_error() call a healthy session's "no data yet"
// fatal. Every step of a healthy session runs here with an error waiting in the queue.
TEST(TlsSession, AnErrorLeftInTheThreadsQueueDoesNotFailAHealthySession) {
  CertFiles files;
  ASSERT_TRUE(files.ok);
  auto ctx = TlsContext::server(files.cert, files.key);
  ASSERT_TRUE(ctx);
  TlsSession server(*ctx);
  MemoryClient client;
  client.step();
  Bytes plain;
  const Bytes hello = client.take();
  // Half a ClientHello: the session needs more bytes (WANT_READ), which is not an error.
  leaveAnError();
  ASSERT_TRUE(server.receive(ByteSpan(hello).first(hello.size() / 2), plain)) << server.error();
  leaveAnError();
  ASSERT_TRUE(server.receive(ByteSpan(hello).subspan(hello.size() / 2), plain)) << server.error();
  client.give(server.takeOutgoing());
  ASSERT_TRUE(handshake(client, server)) << server.error();

  // Established: a record in two halves, each fed with an error waiting.
  client.write("after the handshake");
  const Bytes record = client.take();
  leaveAnError();
  ASSERT_TRUE(server.receive(ByteSpan(record).first(3), plain)) << server.error();
  EXPECT_TRUE(plain.empty());
  leaveAnError();
  ASSERT_TRUE(server.receive(ByteSpan(record).subspan(3), plain)) << server.error();
  EXPECT_EQ(std::string(plain.begin(), plain.end()), "after the handshake");
  leaveAnError();
  const std::string answer = "answer";
  EXPECT_TRUE(server.send(ByteSpan(reinterpret_cast<const uint8_t*>(answer.data()), answer.size()))) << server.error();
  client.give(server.takeOutgoing());
  EXPECT_EQ(client.read(), "answer");
  ERR_clear_error();
}

}  // namespace
}  // namespace rdv::node
