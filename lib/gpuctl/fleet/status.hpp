// SPDX-License-Identifier: MIT
#pragma once
#include "gpuctl/config/config.hpp"
#include "gpuctl/quota/service.hpp"
#include "gpuctl/store/database.hpp"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace gpuctl::fleet {

/// The pool at a glance (`gpuctl status`, DESIGN §10 status shape).
struct PoolStatus {
  int workers_total = 0;
  int workers_online = 0;
  int workers_enabled = 0;
  std::map<std::string, int> by_state;
  std::map<std::string, int> by_provider;
  std::map<std::string, int> bands; ///< safe / warning / critical / exhausted → accounts
  /// Σ over accounts with a budget of the hours they can still use before reaching safe_below in
  /// every window (the dispatcher's and planner's limit).
  double usable_hours_left = 0;
  /// Σ used / Σ budget over the accounts' binding windows; nullopt when no account has a budget.
  std::optional<double> utilization;
  std::vector<quota::AccountQuota> accounts; ///< by name
};

/// Computes the pool status at `now`.
PoolStatus pool_status(store::Database& db, const config::Config& cfg, Instant now);

} // namespace gpuctl::fleet
