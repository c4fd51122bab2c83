// Bans the operator set through the admin API (issue 18), in SQLite (table "bans", component "bans" in
// schema_versions): identity (ENR node id hex, REST username ID or static user name) -> reason, when it
// was set and until when (0: until lifted). Write-through: the admin API answers after the commit, so a
// ban survives a restart; the daemon loads them all at start.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "rendezvous/storage/database.h"

namespace rdv::storage {

struct BanRow {
  std::string identity;
  std::string reason;
  int64_t created = 0;  // unix seconds
  int64_t until = 0;    // unix seconds; 0: until lifted
};

class BanStore {
 public:
  static constexpr size_t kMaxIdentityBytes = 256;
  static constexpr size_t kMaxReasonBytes = 1024;

  // Migrates the schema and prepares the statements. `db` must outlive the store.
  static Result<BanStore, DbError> open(Database& db);

  // Inserts or replaces the identity's ban.
  Status put(const BanRow& ban);
  // Lifts a ban; false when there was none.
  Result<bool, DbError> remove(std::string_view identity);
  // Every ban whose end is not before `unixNow` (ended ones are deleted on the way).
  Result<std::vector<BanRow>, DbError> active(int64_t unixNow);

 private:
  BanStore(Database& db, Statement upsert, Statement remove, Statement expire, Statement all)
      : db_(&db), upsert_(std::move(upsert)), remove_(std::move(remove)), expire_(std::move(expire)), all_(std::move(all)) {}

  Database* db_;
  Statement upsert_;
  Statement remove_;
  Statement expire_;
  Statement all_;
};

}  // namespace rdv::storage
