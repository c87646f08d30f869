// SPDX-License-Identifier: MIT
#pragma once
#include "gpuctl/plan/plan.hpp"
#include "gpuctl/store/database.hpp"

#include <cstdint>
#include <string>

namespace gpuctl::plan {

/// Stores `p` as the active plan in one transaction (DESIGN §3 plans, plan_slots): the previous
/// active plan is deactivated, workers in the plan become control = plan, workers that were
/// plan-controlled and are not in it go back to manual. Returns the plan id. Throws
/// Error(conflict) when a worker of the plan no longer exists.
std::int64_t save_plan(store::Database& db, const Plan& p, const std::string& params_json,
                       Instant now);

} // namespace gpuctl::plan
