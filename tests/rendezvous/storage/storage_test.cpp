#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <filesystem>

#include "rendezvous/enr/enr_builder.h"
#include "rendezvous/identity/private_key.h"
#include "rendezvous/registry/registry.h"
#include "rendezvous/registry/unregister_message.h"
#include "rendezvous/storage/database.h"
#include "rendezvous/storage/durable_registry.h"
#include "rendezvous/storage/registry_store.h"
#include "tests/rendezvous/storage/scratch_dir_test.h"

namespace rdv::storage {
namespace {

using namespace std::chrono_literals;
using identity::PrivateKey;
using registry::Registry;
using registry::TimePoint;

class StorageTest : public rdv::test::ScratchDirTest {
 protected:
  StorageTest() : ScratchDirTest("rdv-storage") {}

  TimePoint now_ = TimePoint{} + 1'700'000'000s;
};

enr::EnrRecord makeRecord(const PrivateKey& key, uint64_t seq) {
  return *enr::EnrBuilder().setSeq(seq).setUdp(30303).sign(key);
}

TEST_F(StorageTest, OpensInWalModeWithChosenSynchronous) {
  auto db = Database::open(path());
  ASSERT_TRUE(db.ok()) << db.error().message;
  EXPECT_EQ(*db->pragma("journal_mode"), "wal");
  EXPECT_EQ(*db->pragma("synchronous"), "1");  // NORMAL
  auto full = Database::open((dir_ / "full.db").string(), {Synchronous::Full});
  ASSERT_TRUE(full.ok());
  EXPECT_EQ(*full->pragma("synchronous"), "2");
  auto bad = Database::open((dir_ / "missing" / "x.db").string());
  ASSERT_FALSE(bad.ok());
  EXPECT_FALSE(bad.error().message.empty());
}

TEST_F(StorageTest, ErrorsCarrySqliteMessages) {
  auto db = Database::open(path());
  auto bad = db->exec("CREATE TABLEX nope");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("syntax error"), std::string::npos) << bad.error().message;
  auto prep = db->prepare("SELECT * FROM missing_table");
  ASSERT_FALSE(prep.ok());
  EXPECT_NE(prep.error().message.find("no such table"), std::string::npos);
  ASSERT_TRUE(db->exec("CREATE TABLE t (k INTEGER PRIMARY KEY, v BLOB)").ok());
  auto insert = db->prepare("INSERT INTO t (k, v) VALUES (?1, ?2)");
  ASSERT_TRUE(insert.ok());
  ASSERT_TRUE(insert->bind(1, 1).ok());
  ASSERT_TRUE(insert->bindBlob(2, Bytes{1, 2}).ok());
  ASSERT_TRUE(insert->run().ok());
  ASSERT_TRUE(insert->bind(1, 1).ok());
  auto dup = insert->run();
  ASSERT_FALSE(dup.ok());
  EXPECT_NE(dup.error().message.find("UNIQUE"), std::string::npos) << dup.error().message;
  EXPECT_FALSE(insert->bind(9, 1).ok()) << "out-of-range parameter index";
}

TEST_F(StorageTest, TransactionsCommitOrRollBack) {
  auto db = Database::open(path());
  ASSERT_TRUE(db->exec("CREATE TABLE t (v INTEGER)").ok());
  {
    auto tx = db->begin();
    ASSERT_TRUE(tx.ok());
    ASSERT_TRUE(db->exec("INSERT INTO t VALUES (1)").ok());
  }  // rolled back
  {
    auto tx = db->begin();
    ASSERT_TRUE(db->exec("INSERT INTO t VALUES (2)").ok());
    ASSERT_TRUE(tx->commit().ok());
    EXPECT_FALSE(tx->commit().ok());
  }
  auto sel = db->prepare("SELECT group_concat(v) FROM t");
  ASSERT_TRUE(*sel->step());
  EXPECT_EQ(sel->columnText(0), "2");
}

TEST_F(StorageTest, MigrationsAreVersionedPerComponent) {
  auto db = Database::open(path());
  const std::array<std::string_view, 2> steps = {"CREATE TABLE a (x)", "CREATE TABLE b (y)"};
  ASSERT_TRUE(db->migrate("demo", std::span(steps).first(1)).ok());
  EXPECT_EQ(*db->schemaVersion("demo"), 1);
  ASSERT_TRUE(db->migrate("demo", steps).ok());
  EXPECT_EQ(*db->schemaVersion("demo"), 2);
  ASSERT_TRUE(db->migrate("demo", steps).ok()) << "idempotent";
  EXPECT_EQ(*db->schemaVersion("other"), 0);
  auto older = db->migrate("demo", std::span(steps).first(1));
  ASSERT_FALSE(older.ok());
  EXPECT_NE(older.error().message.find("newer"), std::string::npos);
}

TEST_F(StorageTest, RegisterCloseReopenLoad) {
  auto alice = *PrivateKey::generate();
  auto bob = *PrivateKey::generate();
  uint64_t counterAfter = 0;
  {
    auto db = Database::open(path());
    auto store = RegistryStore::open(*db);
    ASSERT_TRUE(store.ok()) << store.error().message;
    Registry registry;
    for (const auto* key : {&alice, &bob}) {
      auto plan = registry.checkRegister("chat", makeRecord(*key, 1), 1h, now_);
      ASSERT_TRUE(plan.ok());
      ASSERT_TRUE(store->save(plan->registration).ok());
      registry.apply(*plan);
    }
    auto update = registry.checkRegister("chat", makeRecord(bob, 2), 1h, now_);
    ASSERT_TRUE(store->save(update->registration).ok());
    registry.apply(*update);
    ASSERT_TRUE(store->remove("chat", bob.nodeId()).ok());
    registry.remove("chat", bob.nodeId());
    counterAfter = registry.counter();
  }
  auto db = Database::open(path());
  auto store = RegistryStore::open(*db);
  ASSERT_TRUE(store.ok());
  Registry registry;
  auto loaded = store->loadInto(registry, now_ + 1min);
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded->registrations.size(), 1u);
  EXPECT_EQ(loaded->skipped, 0u);
  ASSERT_NE(registry.find("chat", alice.nodeId()), nullptr);
  EXPECT_EQ(registry.find("chat", alice.nodeId())->expiresAt, now_ + 1h);
  // The counter survives even though its highest registration was removed: cookies stay valid.
  EXPECT_EQ(registry.counter(), counterAfter);
  EXPECT_EQ(*db->schemaVersion("registry"), RegistryStore::kSchemaVersion);
}

TEST_F(StorageTest, ExpiredRowsAreNotLoadedAndArePurged) {
  auto db = Database::open(path());
  auto store = RegistryStore::open(*db);
  Registry registry;
  auto shortLived = registry.registerRecord("chat", makeRecord(*PrivateKey::generate(), 1), 60s, now_);
  auto longLived = registry.registerRecord("chat", makeRecord(*PrivateKey::generate(), 1), 1h, now_);
  ASSERT_TRUE(store->save(shortLived->registration).ok());
  ASSERT_TRUE(store->save(longLived->registration).ok());
  auto loaded = store->load(now_ + 60s);
  EXPECT_EQ(loaded->registrations.size(), 1u);
  EXPECT_EQ(*store->purgeExpired(now_ + 60s), 1);
  EXPECT_EQ(*store->purgeExpired(now_ + 60s), 0);
  EXPECT_EQ(store->load(now_)->registrations.size(), 1u);
}

TEST_F(StorageTest, CorruptRowsAreSkippedNotTrusted) {
  auto db = Database::open(path());
  auto store = RegistryStore::open(*db);
  Registry registry;
  auto plan = registry.registerRecord("chat", makeRecord(*PrivateKey::generate(), 1), 1h, now_);
  ASSERT_TRUE(store->save(plan->registration).ok());
  ASSERT_TRUE(db->exec("UPDATE registrations SET enr = substr(enr, 1, 50)").ok());
  auto loaded = store->load(now_);
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded->registrations.size(), 0u);
  EXPECT_EQ(loaded->skipped, 1u);
}

// The durability promise: a registration whose save() returned survives SIGKILL of the process
// (no close, no checkpoint, no destructor).
TEST_F(StorageTest, AcknowledgedRegistrationSurvivesKill9) {
  auto key = *PrivateKey::generate();
  const auto record = makeRecord(key, 1);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto db = Database::open(path());
    auto store = RegistryStore::open(*db);
    Registry registry;
    auto plan = registry.checkRegister("chat", record, 1h, now_);
    if (!db.ok() || !store.ok() || !plan.ok() || !store->save(plan->registration).ok()) ::_exit(3);
    ::kill(::getpid(), SIGKILL);
    ::_exit(4);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status)) << "child exit status " << WEXITSTATUS(status);
  EXPECT_EQ(WTERMSIG(status), SIGKILL);
  auto db = Database::open(path());
  auto store = RegistryStore::open(*db);
  ASSERT_TRUE(store.ok());
  Registry registry;
  auto loaded = store->loadInto(registry, now_);
  ASSERT_TRUE(loaded.ok());
  ASSERT_NE(registry.find("chat", key.nodeId()), nullptr);
  EXPECT_EQ(*registry.find("chat", key.nodeId())->record, record);
}

TEST_F(StorageTest, DurableRegistryWritesThroughAndReloads) {
  auto alice = *PrivateKey::generate();
  auto bob = *PrivateKey::generate();
  {
    auto db = Database::open(path());
    auto reg = DurableRegistry::open(*db, {}, now_);
    ASSERT_TRUE(reg.ok());
    ASSERT_TRUE(reg->registerRecord("chat", makeRecord(alice, 1), 1h, now_).ok());
    ASSERT_TRUE(reg->registerRecord("chat", makeRecord(bob, 1), 1h, now_).ok());
    auto refused = reg->registerRecord("chat", makeRecord(bob, 1), 100h, now_);
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(std::get<registry::RegistryError>(refused.error()), registry::RegistryError::TtlOutOfRange);
    auto sig = *bob.sign(registry::unregisterDigest("chat", bob.nodeId(), 1, 1'700'000'000));
    ASSERT_TRUE(reg->unregister("chat", bob.nodeId(), sig, 1'700'000'000, now_).ok());
  }
  auto db = Database::open(path());
  LoadedRegistry loaded;
  auto reg = DurableRegistry::open(*db, {}, now_ + 1min, &loaded);
  ASSERT_TRUE(reg.ok());
  EXPECT_EQ(loaded.registrations.size(), 1u);
  auto page = reg->discover("chat", 10, "", now_ + 1min);
  ASSERT_EQ(page->registrations.size(), 1u);
  EXPECT_EQ(page->registrations[0].nodeId(), alice.nodeId());
  EXPECT_EQ(reg->nextExpiry(), now_ + 1h);
  EXPECT_EQ(*reg->purgeExpired(now_ + 1h), 1u);
  EXPECT_EQ(reg->core().size(), 0u);
  EXPECT_EQ(RegistryStore::open(*db)->load(now_)->registrations.size(), 0u);
}

}  // namespace
}  // namespace rdv::storage
