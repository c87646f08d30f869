// SPDX-License-Identifier: MIT
#pragma once
#include "gpuctl/config/config.hpp"
#include "gpuctl/plan/plan.hpp"
#include "gpuctl/store/database.hpp"

#include <string>
#include <vector>

namespace gpuctl::plan {

/// Builds the planner's input from the state file (DESIGN §6): every enabled worker (of the
/// given providers; empty = all), each account's effective policy, and for every window instance
/// overlapping [from, from + days) the hours left below budget × quota.safe_below after the usage
/// already recorded (open sessions counted up to `now`). Throws Error(usage) for days outside
/// 1–28 or an unknown provider.
PlanInput plan_input(store::Database& db, const config::Config& cfg, Strategy strategy,
                     Instant from, int days, int keep, const std::vector<std::string>& providers,
                     Instant now);

} // namespace gpuctl::plan
