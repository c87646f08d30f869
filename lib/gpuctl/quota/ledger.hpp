// SPDX-License-Identifier: MIT
// Quota arithmetic (DESIGN §5): budget windows, usage, shares, status bands and session
// deadlines. Pure functions over plain values; quota/service.hpp feeds them from the store.
#pragma once
#include "gpuctl/core/clock.hpp"
#include "gpuctl/quota/policy.hpp"

#include <optional>
#include <string>
#include <vector>

namespace gpuctl::quota {

/// A budget window: [start, end) with its budget in hours.
struct Window {
  std::string kind; ///< "weekly" | "daily"
  Instant start{};
  Instant end{};
  double budget_h = 0;
};

/// The start of the weekly window containing `t`: the latest instant ≤ t at `reset` ("sat 00:00",
/// UTC day and time). Throws Error(usage) for a malformed reset.
Instant weekly_window_start(const std::string& reset, Instant t);
/// The start of the daily window containing `t`: the latest instant ≤ t at `reset` ("00:00" UTC).
Instant daily_window_start(const std::string& reset, Instant t);

/// The account's budget windows containing `t`: weekly when weekly_gpu_hours > 0, daily when
/// daily_gpu_hours > 0 (weekly first).
std::vector<Window> windows_at(const Policy& p, Instant t);

/// Status band of a share (DESIGN §5): "safe" (< safe_below), "warning" (≥ safe_below),
/// "critical" (≥ critical_above), "exhausted" (≥ 1). No share (no budget) is "safe".
std::string status_of(std::optional<double> share, double safe_below, double critical_above);

/// One window's figures.
struct WindowUsage {
  Window window;
  double used_h = 0; ///< session overlap (open sessions up to now) + adjustments
  double left_h = 0; ///< max(0, budget − used)
  double share = 0;  ///< used / budget
};

/// The instant an account's budget runs out, given `windows` at `now` with their usage and
/// `open` sessions running at once (≥ 1): in each window, now + left / open, carried into the
/// next window (full budget) when the current one resets first. When a window is already over
/// budget the instant lies in the past. nullopt when the account has no budget window.
std::optional<Instant> budget_runout(const std::vector<WindowUsage>& windows, int open,
                                     Instant now);

/// A session's deadline (DESIGN §5): min(start + session_max, budget runout) − shutdown_margin;
/// nullopt when there is neither a cap nor a budget.
std::optional<Instant> session_deadline(const Policy& p, Instant started,
                                        std::optional<Instant> runout);

/// Warning level of an open session at `now`: "past" (now > deadline), "30m" (≤ 30 min to go),
/// "1h" (≤ 1 h to go), else nullopt.
std::optional<std::string> warning_level(std::optional<Instant> deadline, Instant now);

/// Hours in seconds, as a double.
inline double
to_hours(std::int64_t seconds)
{
  return static_cast<double>(seconds) / 3600.0;
}

} // namespace gpuctl::quota
