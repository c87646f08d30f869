// SPDX-License-Identifier: MIT
#include "gpuctl/fleet/dashboard.hpp"

#include "gpuctl/hibernate/stats.hpp"

#include <algorithm>

namespace gpuctl::fleet {

Dashboard
dashboard(store::Database& db, const config::Config& cfg, Instant now, Instant day_start)
{
  Dashboard d;
  d.at = now;
  d.day_start = std::min(day_start, now);
  d.pool = pool_status(db, cfg, now);
  for (const char* state : {"dispatched", "running"}) {
    for (auto& j : store::list_jobs(db.sql(), state)) {
      d.running.push_back(std::move(j));
    }
  }
  std::sort(d.running.begin(), d.running.end(),
            [](const store::JobRow& a, const store::JobRow& b) { return a.id < b.id; });
  for (auto& w : store::list_workers(db.sql())) {
    if (w.state == "hibernated") {
      d.hibernated.push_back(std::move(w));
    }
  }
  auto s = hibernate::stats(db, d.day_start, now);
  d.saved_today_usd = s.saved_usd;
  d.hibernated_today_h = s.hibernated_hours;
  return d;
}

} // namespace gpuctl::fleet
