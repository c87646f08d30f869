// SPDX-License-Identifier: MIT
#include "gpuctl/plan/save.hpp"

#include "gpuctl/core/error.hpp"
#include "gpuctl/store/registry.hpp"

#include <SQLiteCpp/Statement.h>

#include <map>
#include <set>

namespace gpuctl::plan {

std::int64_t
save_plan(store::Database& db, const Plan& p, const std::string& params_json, Instant now)
{
  auto epoch = [](Instant t) { return static_cast<std::int64_t>(t.time_since_epoch().count()); };
  return db.write([&] {
    auto& sql = db.sql();
    std::map<std::string, std::int64_t> ids;
    for (const auto& s : p.slots) {
      if (!ids.count(s.worker)) {
        auto w = store::find_worker(sql, s.worker);
        if (!w) {
          throw_conflict("worker '{}' was removed while planning; plan again", s.worker);
        }
        ids[s.worker] = w->id;
      }
    }
    sql.exec("UPDATE plans SET active = 0 WHERE active = 1");
    SQLite::Statement ins(sql, "INSERT INTO plans(strategy, created_at, from_at, to_at, params_json, "
                               "active) VALUES (?, ?, ?, ?, ?, 1)");
    ins.bind(1, std::string(to_string(p.strategy)));
    ins.bind(2, epoch(now));
    ins.bind(3, epoch(p.from));
    ins.bind(4, epoch(p.to));
    ins.bind(5, params_json);
    ins.exec();
    std::int64_t id = sql.getLastInsertRowid();
    SQLite::Statement slot(sql, "INSERT INTO plan_slots(plan_id, worker_id, start_at, end_at) "
                                "VALUES (?, ?, ?, ?)");
    for (const auto& s : p.slots) {
      slot.bind(1, id);
      slot.bind(2, ids.at(s.worker));
      slot.bind(3, epoch(s.start));
      slot.bind(4, epoch(s.end));
      slot.exec();
      slot.reset();
    }
    sql.exec("UPDATE workers SET control = 'manual' WHERE control = 'plan'");
    for (const auto& [name, wid] : ids) {
      SQLite::Statement c(sql, "UPDATE workers SET control = 'plan' WHERE id = ? AND control != 'autoscale'");
      c.bind(1, wid);
      c.exec();
    }
    store::insert_event(sql, now, "plan.save", std::nullopt, std::string(to_string(p.strategy)),
                        params_json);
    return id;
  });
}

} // namespace gpuctl::plan
