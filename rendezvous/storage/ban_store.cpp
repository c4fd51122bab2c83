#include "rendezvous/storage/ban_store.h"

#include <array>

namespace rdv::storage {

namespace {

constexpr std::array<std::string_view, 1> kMigrations = {
    "CREATE TABLE bans (identity TEXT PRIMARY KEY, reason TEXT NOT NULL, created INTEGER NOT NULL, "
    "until INTEGER NOT NULL DEFAULT 0)",
};

}  // namespace

Result<BanStore, DbError> BanStore::open(Database& db) {
  if (auto m = db.migrate("bans", kMigrations); !m) return unexpected(m.error());
  auto upsert = db.prepare(
      "INSERT INTO bans (identity, reason, created, until) VALUES (?1, ?2, ?3, ?4) "
      "ON CONFLICT(identity) DO UPDATE SET reason = excluded.reason, created = excluded.created, until = excluded.until");
  if (!upsert) return unexpected(upsert.error());
  auto remove = db.prepare("DELETE FROM bans WHERE identity = ?1");
  if (!remove) return unexpected(remove.error());
  auto expire = db.prepare("DELETE FROM bans WHERE until != 0 AND until <= ?1");
  if (!expire) return unexpected(expire.error());
  auto all = db.prepare("SELECT identity, reason, created, until FROM bans ORDER BY identity");
  if (!all) return unexpected(all.error());
  return BanStore(db, std::move(*upsert), std::move(*remove), std::move(*expire), std::move(*all));
}

Status BanStore::put(const BanRow& ban) {
  if (ban.identity.empty() || ban.identity.size() > kMaxIdentityBytes || ban.reason.size() > kMaxReasonBytes)
    return unexpected(DbError{-1, "identity must be 1-256 bytes and reason at most 1024"});
  for (auto s : {upsert_.bindText(1, ban.identity), upsert_.bindText(2, ban.reason), upsert_.bind(3, ban.created),
                 upsert_.bind(4, ban.until)})
    if (!s) return s;
  return upsert_.run();
}

Result<bool, DbError> BanStore::remove(std::string_view identity) {
  if (auto s = remove_.bindText(1, identity); !s) return unexpected(s.error());
  if (auto s = remove_.run(); !s) return unexpected(s.error());
  return db_->changes() > 0;
}

Result<std::vector<BanRow>, DbError> BanStore::active(int64_t unixNow) {
  if (auto s = expire_.bind(1, unixNow); !s) return unexpected(s.error());
  if (auto s = expire_.run(); !s) return unexpected(s.error());
  std::vector<BanRow> out;
  for (;;) {
    auto row = all_.step();
    if (!row) {
      (void)all_.reset();
      return unexpected(row.error());
    }
    if (!*row) break;
    out.push_back({all_.columnText(0), all_.columnText(1), all_.columnInt64(2), all_.columnInt64(3)});
  }
  if (auto s = all_.reset(); !s) return unexpected(s.error());
  return out;
}

}  // namespace rdv::storage
