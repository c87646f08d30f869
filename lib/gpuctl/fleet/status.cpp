// SPDX-License-Identifier: MIT
#include "gpuctl/fleet/status.hpp"

#include "gpuctl/store/registry.hpp"

namespace gpuctl::fleet {

PoolStatus
pool_status(store::Database& db, const config::Config& cfg, Instant now)
{
  PoolStatus s;
  s.bands = {{"safe", 0}, {"warning", 0}, {"critical", 0}, {"exhausted", 0}};
  for (const auto& w : store::list_workers(db.sql())) {
    ++s.workers_total;
    s.workers_online += w.state == "online" ? 1 : 0;
    s.workers_enabled += w.enabled ? 1 : 0;
    ++s.by_state[w.state];
    ++s.by_provider[w.provider];
  }
  s.accounts = quota::compute_quotas(db, cfg, now);
  double used = 0, budget = 0;
  for (const auto& q : s.accounts) {
    ++s.bands[q.status];
    if (q.usable_h) {
      s.usable_hours_left += *q.usable_h;
    }
    for (const auto& w : q.windows) {
      if (q.binding && w.window.kind == *q.binding) {
        used += w.used_h;
        budget += w.window.budget_h;
      }
    }
  }
  if (budget > 0) {
    s.utilization = used / budget;
  }
  return s;
}

} // namespace gpuctl::fleet
