// SPDX-License-Identifier: MIT
// What `gpuctl status --watch` shows: the pool, every account's quota with its open sessions and
// their deadlines, the running jobs, the hibernated instances and what hibernation saved today,
// read from the store in one go. Nothing here prints.
#pragma once
#include "gpuctl/config/config.hpp"
#include "gpuctl/fleet/status.hpp"
#include "gpuctl/store/database.hpp"
#include "gpuctl/store/jobs.hpp"
#include "gpuctl/store/registry.hpp"

#include <vector>

namespace gpuctl::fleet {

/// One frame of the live view.
struct Dashboard {
  Instant at{};                              ///< the `now` it was read at
  PoolStatus pool;                           ///< workers by state; accounts with quota and sessions
  std::vector<store::JobRow> running;        ///< jobs dispatched or running, oldest first
  std::vector<store::WorkerRow> hibernated;  ///< workers in state hibernated, by name
  Instant day_start{};                       ///< start of "today" (the caller's zone)
  double saved_today_usd = 0;                ///< hibernation savings in [day_start, at], USD
  double hibernated_today_h = 0;             ///< hours stopped by hibernation in [day_start, at]
};

/// Reads the dashboard at `now`; `day_start` is the start of the day for "saved today" (local
/// midnight in the display zone, ≤ now). Reads only: `db` may be opened with Access::read.
Dashboard dashboard(store::Database& db, const config::Config& cfg, Instant now, Instant day_start);

} // namespace gpuctl::fleet
