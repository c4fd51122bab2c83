// A small RAII wrapper over one SQLite connection, shared by everything that persists state
// (registry, usage ledger, mailboxes). Every SQLite return code is checked and turned into a
// DbError carrying sqlite3_errmsg; nothing throws.
//
// Durability: open() puts the file in WAL mode. With synchronous=NORMAL (the default) a commit
// has appended its frames to the -wal file with write() before sqlite3_step() returns, so the
// data is in the kernel's page cache and survives the process being killed (kill -9, crash,
// OOM kill); only a power loss or kernel crash can drop the last commits (the file stays
// consistent). synchronous=FULL also fsyncs the WAL on every commit, surviving power loss at
// the cost of one fsync per write transaction. The daemon acknowledges a registration only after
// its commit returned, so NORMAL meets "an acknowledged registration survives kill -9".
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "rendezvous/base/bytes.h"
#include "rendezvous/base/result.h"

struct sqlite3;
struct sqlite3_stmt;

namespace rdv::storage {

struct DbError {
  int code = 0;         // SQLite (extended) result code, or -1 for our own checks
  std::string message;  // sqlite3_errmsg or our explanation
};

struct Ok {};
using Status = Result<Ok, DbError>;

enum class Synchronous { Normal, Full };

struct DatabaseOptions {
  Synchronous synchronous = Synchronous::Normal;
  int busyTimeoutMs = 5000;
};

class Statement {
 public:
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  // Parameters are 1-based, as in SQLite. Text and blobs are copied.
  Status bind(int index, int64_t value);
  Status bindText(int index, std::string_view value);
  Status bindBlob(int index, ByteSpan value);
  Status bindNull(int index);

  // true: a row is available through the column getters; false: done.
  Result<bool, DbError> step();
  // Steps a statement that returns no rows, then resets it for reuse.
  Status run();
  // Resets and clears the bindings.
  Status reset();

  int64_t columnInt64(int column) const;
  std::string columnText(int column) const;
  Bytes columnBlob(int column) const;
  bool columnIsNull(int column) const;

 private:
  friend class Database;
  Statement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  Status check(int rc) const;

  sqlite3* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
};

class Database;

// BEGIN IMMEDIATE on creation; rolls back on destruction unless commit() succeeded. Holds a
// pointer to its Database: do not move the Database while a transaction is open.
class Transaction {
 public:
  Transaction(Transaction&& other) noexcept : db_(other.db_) { other.db_ = nullptr; }
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  Transaction& operator=(Transaction&&) = delete;
  ~Transaction();
  Status commit();

 private:
  friend class Database;
  explicit Transaction(Database* db) : db_(db) {}
  Database* db_;
};

class Database {
 public:
  // Opens (creating if needed) `path` in WAL mode with the given synchronous level.
  static Result<Database, DbError> open(const std::string& path, DatabaseOptions options = {});

  Database(Database&& other) noexcept : db_(other.db_) { other.db_ = nullptr; }
  Database& operator=(Database&& other) noexcept;
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;
  ~Database();

  // Runs one or more statements that return no rows of interest.
  Status exec(std::string_view sql);
  Result<Statement, DbError> prepare(std::string_view sql);
  Result<Transaction, DbError> begin();

  // Schema versions per component (several share one file, so PRAGMA user_version will not do):
  // applies steps[current..] in one transaction and records the new version. A stored version
  // newer than steps.size() is an error (a newer binary wrote this file).
  Status migrate(std::string_view component, std::span<const std::string_view> steps);
  Result<int64_t, DbError> schemaVersion(std::string_view component);

  // The value of a single-value PRAGMA (e.g. "journal_mode"), as text.
  Result<std::string, DbError> pragma(std::string_view name);

  // Rows changed by the last INSERT/UPDATE/DELETE on this connection.
  int64_t changes() const;

  sqlite3* handle() const { return db_; }

 private:
  explicit Database(sqlite3* db) : db_(db) {}
  DbError error(int rc) const;

  sqlite3* db_ = nullptr;
};

}  // namespace rdv::storage
