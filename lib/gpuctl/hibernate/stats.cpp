// SPDX-License-Identifier: MIT
#include "gpuctl/hibernate/stats.hpp"

#include "gpuctl/store/hibernation.hpp"
#include "gpuctl/store/registry.hpp"

#include <SQLiteCpp/Statement.h>

#include <algorithm>

namespace gpuctl::hibernate {

Stats
stats(store::Database& db, std::optional<Instant> since, Instant now)
{
  Stats s;
  for (const auto& w : store::list_workers(db.sql(), {"", "vast"})) {
    if (w.state == "online" || w.state == "starting") ++s.online;
    else if (w.state == "idle") ++s.idle;
    else if (w.state == "hibernated") ++s.hibernated;
    else if (w.state == "deleted") ++s.deleted;
  }
  // Each hibernation: a session ended as "hibernated", stopped until the next session of that
  // worker (a wake), its destroy (a deleted worker's last observation: no instance, no storage
  // billed from then on) or now.
  SQLite::Statement q(db.sql(),
                      "SELECT s.worker_id, s.ended_at, COALESCE(s.price_usd_per_hour, 0), "
                      "(SELECT MIN(n.started_at) FROM sessions n WHERE n.worker_id = s.worker_id "
                      " AND n.started_at >= s.ended_at), "
                      "(SELECT w.last_seen_at FROM workers w WHERE w.id = s.worker_id "
                      " AND w.state = 'deleted') "
                      "FROM sessions s WHERE s.end_reason = 'hibernated' AND s.ended_at IS NOT NULL "
                      "ORDER BY s.ended_at");
  while (q.executeStep()) {
    Instant stopped{std::chrono::seconds{q.getColumn(1).getInt64()}};
    Instant until = q.getColumn(3).isNull() ? now
                                            : Instant{std::chrono::seconds{q.getColumn(3).getInt64()}};
    if (!q.getColumn(4).isNull()) {
      until = std::min(until, Instant{std::chrono::seconds{q.getColumn(4).getInt64()}});
    }
    if (!s.since || stopped < *s.since) {
      if (!since) {
        s.since = stopped;
      }
    }
    Instant from = since ? std::max(stopped, *since) : stopped;
    until = std::min(until, now);
    if (until <= from) {
      continue;
    }
    double hours = static_cast<double>((until - from).count()) / 3600.0;
    double storage = 0;
    if (!q.getColumn(0).isNull()) {
      storage = store::hibernation_of(db.sql(), q.getColumn(0).getInt64())
                    .storage_usd_per_hour.value_or(0);
    }
    s.hibernated_hours += hours;
    s.storage_usd += hours * storage;
    s.saved_usd += hours * (q.getColumn(2).getDouble() - storage);
  }
  if (since) {
    s.since = since;
  }
  return s;
}

} // namespace gpuctl::hibernate
