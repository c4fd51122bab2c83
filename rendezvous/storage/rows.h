// A small row visitor: prepare, bind ?1, ?2, ... in order, step every row. The ledger's and the
// registry's reads use it instead of writing the prepare/bind/step loop each time.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "rendezvous/storage/database.h"

namespace rdv::storage {

using SqlParam = std::variant<int64_t, std::string>;

// Runs `sql` with `params` bound to ?1, ?2, ... and calls `visit` once per result row (it reads the row
// with the statement's column getters). The first error (prepare, bind or step) ends the walk.
Status forEachRow(Database& db, std::string_view sql, const std::vector<SqlParam>& params,
                  const std::function<void(const Statement&)>& visit);

// A count or a sum SQLite keeps as int64, as the unsigned value it is (a negative one reads as 0).
inline uint64_t columnU64(const Statement& st, int column) {
  const int64_t v = st.columnInt64(column);
  return v < 0 ? 0 : static_cast<uint64_t>(v);
}

}  // namespace rdv::storage
