#include "rendezvous/storage/rows.h"

namespace rdv::storage {

Status forEachRow(Database& db, std::string_view sql, const std::vector<SqlParam>& params,
                  const std::function<void(const Statement&)>& visit) {
  auto st = db.prepare(sql);
  if (!st) return unexpected(st.error());
  for (size_t i = 0; i < params.size(); ++i) {
    const int index = static_cast<int>(i) + 1;
    auto bound = std::holds_alternative<int64_t>(params[i]) ? st->bind(index, std::get<int64_t>(params[i]))
                                                            : st->bindText(index, std::get<std::string>(params[i]));
    if (!bound) return unexpected(bound.error());
  }
  for (;;) {
    auto row = st->step();
    if (!row) return unexpected(row.error());
    if (!*row) return Ok{};
    visit(*st);
  }
}

}  // namespace rdv::storage
