#include "rendezvous/storage/usage_reads.h"

#include "rendezvous/storage/ledger_book.h"
#include "rendezvous/storage/rows.h"

namespace rdv::storage {

namespace {
constexpr int64_t kDay = 86400;
}  // namespace

Result<UsageWindow, DbError> readUsageWindow(Database& db, int64_t since, int64_t until, int64_t lastDayAfter) {
  const std::string sinceDay = utcDay(since);
  const std::string untilDay = utcDay(until);
  const int64_t windowEnd = until + kDay;  // exclusive
  // One read transaction: every part of the document sees the same flushes.
  if (auto s = db.exec("BEGIN"); !s) return unexpected(s.error());
  struct EndRead {
    Database& db;
    ~EndRead() { (void)db.exec("COMMIT"); }
  } endRead{db};

  UsageWindow w;
  auto days = forEachRow(
      db,
      "SELECT day, identity, class, allocations, bytes_to_peer, bytes_to_client, packets_to_peer, "
      "packets_to_client, allocation_seconds FROM identity_days WHERE day >= ?1 AND day <= ?2 ORDER BY day",
      {sinceDay, untilDay}, [&](const Statement& st) {
        w.days.push_back({st.columnText(0), st.columnText(1), st.columnText(2),
                          UsageTotals{.allocations = columnU64(st, 3), .bytesToPeer = columnU64(st, 4),
                                      .bytesToClient = columnU64(st, 5), .packetsToPeer = columnU64(st, 6),
                                      .packetsToClient = columnU64(st, 7), .allocationSeconds = columnU64(st, 8)}});
      });
  if (!days) return unexpected(days.error());

  auto hours = forEachRow(
      db,
      "SELECT hour_start, bytes_to_peer, bytes_to_client FROM node_hours WHERE hour_start >= ?1 AND hour_start < ?2 "
      "AND (bytes_to_peer > 0 OR bytes_to_client > 0) ORDER BY hour_start",
      {since, windowEnd}, [&](const Statement& st) {
        w.hours.push_back({st.columnInt64(0), columnU64(st, 1), columnU64(st, 2)});
      });
  if (!hours) return unexpected(hours.error());

  auto reasons = forEachRow(
      db,
      "SELECT end_reason, count(*) FROM allocations WHERE ended >= ?1 AND ended < ?2 GROUP BY end_reason "
      "ORDER BY end_reason",
      {since, windowEnd}, [&](const Statement& st) { w.endReasons.emplace_back(st.columnText(0), columnU64(st, 1)); });
  if (!reasons) return unexpected(reasons.error());

  auto sessions = forEachRow(
      db, "SELECT path, sum(count) FROM sessions WHERE day >= ?1 AND day <= ?2 GROUP BY path", {sinceDay, untilDay},
      [&](const Statement& st) { w.sessions.emplace_back(st.columnText(0), columnU64(st, 1)); });
  if (!sessions) return unexpected(sessions.error());

  auto lastDay = forEachRow(
      db,
      "SELECT coalesce(sum(bytes_to_peer), 0), coalesce(sum(bytes_to_client), 0), "
      "coalesce(sum(allocation_seconds), 0) FROM node_hours WHERE hour_start > ?1",
      {lastDayAfter}, [&](const Statement& st) {
        w.lastDay = UsageTotals{.bytesToPeer = columnU64(st, 0), .bytesToClient = columnU64(st, 1),
                                .allocationSeconds = columnU64(st, 2)};
      });
  if (!lastDay) return unexpected(lastDay.error());
  return w;
}

}  // namespace rdv::storage
