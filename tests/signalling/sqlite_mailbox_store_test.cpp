// The durable mailbox: round trip, reopen, id order, corrupt rows, and the promise that an
// envelope the hub acknowledged as "stored" survives SIGKILL of the process.
#include "signalling/hub/sqlite_mailbox_store.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

#include "tests/signalling/hub_harness.h"

namespace rdv::signalling {
namespace {

using identity::PrivateKey;
using storage::Database;
using namespace test;

class SqliteMailboxStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("rdv-mailbox-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string path() const { return (dir_ / "node.sqlite").string(); }

  Envelope make(uint64_t seq, std::string_view body) {
    EnvelopeHeader h{alice_.nodeId(), bob_.nodeId(), EnvelopeType::Message, seq, 1700000000000ull};
    return *seal(alice_, bob_.publicKey(), h, asBytes(body), rng_);
  }

  HubConfig hubConfig() const {
    HubConfig c;
    c.hubId = hub_.nodeId();
    return c;
  }

  std::filesystem::path dir_;
  PrivateKey hub_ = keyFromHex(kEphemeralSecret);
  PrivateKey alice_ = keyFromHex(kSenderSecret);
  PrivateKey bob_ = keyFromHex(kRecipientSecret);
  CryptoRng rng_;
  TimePoint now_ = fromUnixMillis(1'700'000'000'000);
};

TEST_F(SqliteMailboxStoreTest, PutLoadRemoveAcrossReopen) {
  const auto a = make(1, "one");
  const auto b = make(2, "two");
  int64_t idA = 0;
  {
    auto db = Database::open(path());
    ASSERT_TRUE(db.ok());
    auto store = SqliteMailboxStore::open(*db);
    ASSERT_TRUE(store.ok());
    idA = *store->put(a, now_ + 1h);
    EXPECT_GT(*store->put(b, now_ + 2h), idA);
  }
  auto db = Database::open(path());
  auto store = SqliteMailboxStore::open(*db);
  ASSERT_TRUE(store.ok());
  EXPECT_EQ(*db->schemaVersion("mailbox"), SqliteMailboxStore::kSchemaVersion);
  EXPECT_EQ(*db->pragma("journal_mode"), "wal");
  auto loaded = store->loadAll(now_);
  ASSERT_TRUE(loaded.ok());
  ASSERT_EQ(loaded->envelopes.size(), 2u);
  EXPECT_EQ(loaded->envelopes[0].envelope, a);
  EXPECT_EQ(loaded->envelopes[0].id, idA);
  EXPECT_EQ(loaded->envelopes[0].expiresAt, now_ + 1h);
  EXPECT_EQ(loaded->envelopes[1].envelope, b);
  const int64_t ids[] = {idA};
  ASSERT_TRUE(store->remove(ids).ok());
  EXPECT_EQ(store->loadAll(now_)->envelopes.size(), 1u);
  // Ids are never reused, so arrival order survives deletes.
  EXPECT_GT(*store->put(a, now_ + 1h), loaded->envelopes[1].id);
}

TEST_F(SqliteMailboxStoreTest, ExpiredRowsAreNotLoadedAndArePurged) {
  auto db = Database::open(path());
  auto store = SqliteMailboxStore::open(*db);
  ASSERT_TRUE(store->put(make(1, "short"), now_ + 1min).ok());
  ASSERT_TRUE(store->put(make(2, "long"), now_ + 1h).ok());
  EXPECT_EQ(store->loadAll(now_ + 1min)->envelopes.size(), 1u);
  EXPECT_EQ(*store->purgeExpired(now_ + 1min), 1);
  EXPECT_EQ(*store->purgeExpired(now_ + 1min), 0);
}

TEST_F(SqliteMailboxStoreTest, CorruptRowsAreSkippedNotDelivered) {
  auto db = Database::open(path());
  auto store = SqliteMailboxStore::open(*db);
  ASSERT_TRUE(store->put(make(1, "x"), now_ + 1h).ok());
  ASSERT_TRUE(store->put(make(2, "y"), now_ + 1h).ok());
  ASSERT_TRUE(db->exec("UPDATE mailbox SET envelope = substr(envelope, 1, 50) WHERE seq = 1").ok());
  auto loaded = store->loadAll(now_);
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded->skipped, 1u);
  ASSERT_EQ(loaded->envelopes.size(), 1u);
  EXPECT_EQ(loaded->envelopes[0].envelope.header.seq, 2u);
}

TEST_F(SqliteMailboxStoreTest, HubOverSqliteDeliversAfterReopen) {
  Client alice{1, alice_};
  Client bob{2, bob_};
  Envelope sent = make(1, "x");
  {
    auto db = Database::open(path());
    auto store = SqliteMailboxStore::open(*db);
    HubHarness h(hubConfig(), *store);
    h.login(alice);
    sent = h.envelope(alice, bob.key, "kept across restart");
    auto acks = only<AckFrame>(framesTo(h.send(alice, sent), alice.conn));
    ASSERT_EQ(acks.size(), 1u);
    EXPECT_EQ(acks[0].status, AckStatus::Stored);
  }
  auto db = Database::open(path());
  auto store = SqliteMailboxStore::open(*db);
  HubHarness h(hubConfig(), *store);
  auto received = only<EnvelopeFrame>(framesTo(h.login(bob), bob.conn));
  ASSERT_EQ(received.size(), 1u);
  EXPECT_EQ(received[0].envelope, sent);
  EXPECT_EQ(openBody(received[0].envelope, bob_), "kept across restart");
  // Delivered but unconfirmed rows stay; confirmed rows are gone from the file.
  EXPECT_EQ(store->loadAll(h.now)->envelopes.size(), 1u);
  h.confirm(bob, alice_.nodeId(), sent.header.seq);
  EXPECT_EQ(store->loadAll(h.now)->envelopes.size(), 0u);
}

// The durability promise: the child acknowledges an envelope as stored, then dies by SIGKILL
// (no destructor, no checkpoint, no close). The parent reopens the file and delivers it.
TEST_F(SqliteMailboxStoreTest, AcknowledgedEnvelopeSurvivesKill9) {
  const Envelope sent = make(7, "survives kill -9");
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto db = Database::open(path());
    if (!db.ok()) ::_exit(3);
    auto store = SqliteMailboxStore::open(*db);
    if (!store.ok()) ::_exit(4);
    CryptoRng rng;
    Hub hub(hubConfig(), *store, rng);
    hub.connected(1, now_);
    auto challenge = decodeFrame(std::get<SendFrame>(*hub.nextCommand()).text);
    const auto& nonce = std::get<ChallengeFrame>(*challenge).nonce;
    hub.handleFrame(1, encodeFrame(AuthFrame{alice_.nodeId(), *signChallenge(alice_, hub_.nodeId(), nonce)}), now_);
    hub.handleFrame(1, encodeFrame(EnvelopeFrame{sent}), now_);
    bool stored = false;
    for (auto& c : hub.drainCommands()) {
      auto f = decodeFrame(std::get<SendFrame>(c).text);
      if (auto* ack = f ? std::get_if<AckFrame>(&*f) : nullptr) stored = ack->status == AckStatus::Stored;
    }
    if (!stored) ::_exit(5);
    ::kill(::getpid(), SIGKILL);
    ::_exit(6);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status)) << "child exit status " << WEXITSTATUS(status);
  EXPECT_EQ(WTERMSIG(status), SIGKILL);
  auto db = Database::open(path());
  auto store = SqliteMailboxStore::open(*db);
  ASSERT_TRUE(store.ok());
  HubHarness h(hubConfig(), *store);
  EXPECT_EQ(h.hub().mailbox().size(), 1u);
  auto received = only<EnvelopeFrame>(framesTo(h.login(Client{2, bob_}), 2));
  ASSERT_EQ(received.size(), 1u);
  EXPECT_EQ(received[0].envelope, sent);
  EXPECT_EQ(openBody(received[0].envelope, bob_), "survives kill -9");
}

}  // namespace
}  // namespace rdv::signalling
