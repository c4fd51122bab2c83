#include "rendezvous/storage/database.h"

#include <sqlite3.h>

#include <utility>

namespace rdv::storage {

// ---- Statement ----

Statement::Statement(Statement&& other) noexcept
    : db_(std::exchange(other.db_, nullptr)), stmt_(std::exchange(other.stmt_, nullptr)) {}

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    if (stmt_ != nullptr) sqlite3_finalize(stmt_);
    db_ = std::exchange(other.db_, nullptr);
    stmt_ = std::exchange(other.stmt_, nullptr);
  }
  return *this;
}

Statement::~Statement() {
  // sqlite3_finalize repeats the last step's error, already reported by step(); nothing to do.
  if (stmt_ != nullptr) sqlite3_finalize(stmt_);
}

Status Statement::check(int rc) const {
  if (rc == SQLITE_OK) return Ok{};
  return unexpected(DbError{rc, sqlite3_errmsg(db_)});
}

Status Statement::bind(int index, int64_t value) { return check(sqlite3_bind_int64(stmt_, index, value)); }

Status Statement::bindText(int index, std::string_view value) {
  return check(sqlite3_bind_text64(stmt_, index, value.data(), value.size(), SQLITE_TRANSIENT, SQLITE_UTF8));
}

Status Statement::bindBlob(int index, ByteSpan value) {
  // A zero-length blob needs a non-null pointer, or SQLite binds NULL.
  static const uint8_t kEmpty = 0;
  const void* data = value.empty() ? &kEmpty : value.data();
  return check(sqlite3_bind_blob64(stmt_, index, data, value.size(), SQLITE_TRANSIENT));
}

Status Statement::bindNull(int index) { return check(sqlite3_bind_null(stmt_, index)); }

Result<bool, DbError> Statement::step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return unexpected(DbError{rc, sqlite3_errmsg(db_)});
}

Status Statement::run() {
  auto stepped = step();
  if (!stepped) {
    sqlite3_reset(stmt_);  // returns the same error again; already reported
    return unexpected(stepped.error());
  }
  return reset();
}

Status Statement::reset() {
  if (auto rc = check(sqlite3_reset(stmt_)); !rc) return rc;
  return check(sqlite3_clear_bindings(stmt_));
}

int64_t Statement::columnInt64(int column) const { return sqlite3_column_int64(stmt_, column); }

std::string Statement::columnText(int column) const {
  const auto* text = sqlite3_column_text(stmt_, column);
  const int size = sqlite3_column_bytes(stmt_, column);
  if (text == nullptr) return {};
  return std::string(reinterpret_cast<const char*>(text), static_cast<size_t>(size));
}

Bytes Statement::columnBlob(int column) const {
  const auto* data = static_cast<const uint8_t*>(sqlite3_column_blob(stmt_, column));
  const int size = sqlite3_column_bytes(stmt_, column);
  if (data == nullptr || size <= 0) return {};
  return Bytes(data, data + size);
}

bool Statement::columnIsNull(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }

// ---- Transaction ----

Transaction::~Transaction() {
  // Best effort: a failed rollback leaves SQLite to roll back when the connection closes.
  if (db_ != nullptr) (void)db_->exec("ROLLBACK");
}

Status Transaction::commit() {
  if (db_ == nullptr) return unexpected(DbError{-1, "transaction already finished"});
  auto status = db_->exec("COMMIT");
  if (status) db_ = nullptr;
  return status;
}

// ---- Database ----

DbError Database::error(int rc) const {
  return DbError{rc, db_ != nullptr ? sqlite3_errmsg(db_) : sqlite3_errstr(rc)};
}

Result<Database, DbError> Database::open(const std::string& path, DatabaseOptions options) {
  sqlite3* raw = nullptr;
  const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  Database db(raw);  // owns the handle even when opening failed, so it is closed
  if (rc != SQLITE_OK) return unexpected(db.error(rc));
  if (int ext = sqlite3_extended_result_codes(raw, 1); ext != SQLITE_OK) return unexpected(db.error(ext));
  if (int busy = sqlite3_busy_timeout(raw, options.busyTimeoutMs); busy != SQLITE_OK) {
    return unexpected(db.error(busy));
  }
  auto mode = db.pragma("journal_mode = WAL");
  if (!mode) return unexpected(mode.error());
  if (*mode != "wal") return unexpected(DbError{-1, "cannot enable WAL mode (journal_mode is " + *mode + ")"});
  const char* sync = options.synchronous == Synchronous::Full ? "PRAGMA synchronous = FULL"
                                                              : "PRAGMA synchronous = NORMAL";
  if (auto s = db.exec(sync); !s) return unexpected(s.error());
  if (auto s = db.exec("PRAGMA foreign_keys = ON"); !s) return unexpected(s.error());
  return db;
}

Database& Database::operator=(Database&& other) noexcept {
  if (this != &other) {
    if (db_ != nullptr) sqlite3_close_v2(db_);
    db_ = std::exchange(other.db_, nullptr);
  }
  return *this;
}

Database::~Database() {
  // close_v2 defers the close until every statement is finalized, so order never leaks handles.
  if (db_ != nullptr) sqlite3_close_v2(db_);
}

Status Database::exec(std::string_view sql) {
  const std::string text(sql);
  char* message = nullptr;
  const int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &message);
  if (rc == SQLITE_OK) return Ok{};
  DbError err{rc, message != nullptr ? message : sqlite3_errmsg(db_)};
  sqlite3_free(message);
  return unexpected(std::move(err));
}

Result<Statement, DbError> Database::prepare(std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  const int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT,
                                    &stmt, nullptr);
  if (rc != SQLITE_OK) return unexpected(error(rc));
  if (stmt == nullptr) return unexpected(DbError{-1, "empty SQL statement"});
  return Statement(db_, stmt);
}

Result<Transaction, DbError> Database::begin() {
  if (auto s = exec("BEGIN IMMEDIATE"); !s) return unexpected(s.error());
  return Transaction(this);
}

int64_t Database::changes() const { return sqlite3_changes64(db_); }

Result<std::string, DbError> Database::pragma(std::string_view name) {
  auto stmt = prepare("PRAGMA " + std::string(name));
  if (!stmt) return unexpected(stmt.error());
  auto row = stmt->step();
  if (!row) return unexpected(row.error());
  if (!*row) return std::string();
  return stmt->columnText(0);
}

// ---- Schema versions ----

namespace {
constexpr std::string_view kVersionTable =
    "CREATE TABLE IF NOT EXISTS schema_versions (component TEXT PRIMARY KEY, version INTEGER NOT NULL)";
}  // namespace

Result<int64_t, DbError> Database::schemaVersion(std::string_view component) {
  if (auto s = exec(kVersionTable); !s) return unexpected(s.error());
  auto stmt = prepare("SELECT version FROM schema_versions WHERE component = ?1");
  if (!stmt) return unexpected(stmt.error());
  if (auto s = stmt->bindText(1, component); !s) return unexpected(s.error());
  auto row = stmt->step();
  if (!row) return unexpected(row.error());
  return *row ? stmt->columnInt64(0) : 0;
}

Status Database::migrate(std::string_view component, std::span<const std::string_view> steps) {
  auto tx = begin();
  if (!tx) return unexpected(tx.error());
  auto current = schemaVersion(component);
  if (!current) return unexpected(current.error());
  const auto target = static_cast<int64_t>(steps.size());
  if (*current > target) {
    return unexpected(DbError{-1, std::string(component) + " schema version " + std::to_string(*current) +
                                      " is newer than this binary supports (" + std::to_string(target) + ")"});
  }
  if (*current == target) return tx->commit();
  for (int64_t v = *current; v < target; ++v) {
    if (auto s = exec(steps[static_cast<size_t>(v)]); !s) return s;
  }
  auto stmt = prepare(
      "INSERT INTO schema_versions (component, version) VALUES (?1, ?2) "
      "ON CONFLICT (component) DO UPDATE SET version = excluded.version");
  if (!stmt) return unexpected(stmt.error());
  if (auto s = stmt->bindText(1, component); !s) return s;
  if (auto s = stmt->bind(2, target); !s) return s;
  if (auto s = stmt->run(); !s) return s;
  return tx->commit();
}

}  // namespace rdv::storage
