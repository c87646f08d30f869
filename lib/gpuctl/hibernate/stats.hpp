// SPDX-License-Identifier: MIT
// `gpuctl hibernate stats` (DESIGN §8, §10 hibernate stats): what hibernation saved.
#pragma once
#include "gpuctl/core/clock.hpp"
#include "gpuctl/store/database.hpp"

#include <optional>

namespace gpuctl::hibernate {

struct Stats {
  std::optional<Instant> since; ///< the start of the period (the first hibernation when not given)
  int online = 0;               ///< vast workers online or starting
  int idle = 0;
  int hibernated = 0;
  int deleted = 0;
  double hibernated_hours = 0;  ///< hours stopped by hibernation in [since, now]
  double saved_usd = 0;         ///< those hours × the session's recorded $/h, minus storage
  double storage_usd = 0;       ///< storage billed while stopped (when the listing gave its price)
};

/// Savings = Σ over sessions closed as "hibernated" of the stopped time (until the worker's next
/// session or now, within [since, now]) × that session's $/h − storage $/h × the same time.
Stats stats(store::Database& db, std::optional<Instant> since, Instant now);

} // namespace gpuctl::hibernate
