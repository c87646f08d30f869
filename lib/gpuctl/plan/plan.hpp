// SPDX-License-Identifier: MIT
// The planner (DESIGN §6): from accounts, their policies and recorded usage, a schedule of
// sessions over a horizon that respects every limit. Pure: the input is plain values
// (plan/input.hpp builds it from the store), the output a Plan; nothing here prints or writes.
#pragma once
#include "gpuctl/core/clock.hpp"
#include "gpuctl/core/duration.hpp"

#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace gpuctl::plan {

/// One budget window instance of an account, clipped to nothing: [start, end) with the hours the
/// plan may still use in it (budget × safe_below − recorded usage, ≥ 0).
struct WindowBudget {
  std::string kind; ///< "weekly" | "daily" | "usd" (vast's max_usd_per_day ÷ the dearest worker's $/h)
  Instant start{};
  Instant end{};
  double hours = 0;
};

/// An account as the planner sees it.
struct PlanAccount {
  std::string name;
  std::string provider;
  std::vector<std::string> workers; ///< enabled workers, in name order
  int concurrent = 0;               ///< sessions at once (≤ workers.size()); 0 = none possible
  std::optional<Seconds> cap;       ///< longest planned session (session_max − margin)
  /// Budget windows overlapping the horizon, every instance. Windows of one kind do not
  /// overlap; an account without windows has no hour budget.
  std::vector<WindowBudget> windows;
  /// Sessions already running at `from`, kept as fixed slots until their deadline (DESIGN §6):
  /// their workers are busy, they count as online, and their hours from `from` on are already
  /// taken out of `windows` by the caller.
  struct Fixed {
    std::string worker;
    Instant end{};
  };
  std::vector<Fixed> fixed;
};

enum class Strategy { full_time, burst, economy }; ///< 24x7 | burst | economy

/// Parses "24x7" | "burst" | "economy"; Error(usage) otherwise.
Strategy parse_strategy(std::string_view s);
std::string_view to_string(Strategy s);
/// Every strategy, in the order the docs list them (the table parse_strategy and to_string use;
/// also what `gpuctl __complete strategies` prints).
std::span<const Strategy> all_strategies();

struct PlanInput {
  Strategy strategy = Strategy::full_time;
  Instant from{};
  Instant to{};
  int keep = 0; ///< economy: GPUs to keep online
  std::vector<PlanAccount> accounts;
};

/// A planned session.
struct Slot {
  std::string worker;
  std::string account;
  std::string provider;
  Instant start{};
  Instant end{};
};

/// A step of the GPUs-online step function.
struct OnlineStep {
  Instant start{};
  Instant end{};
  int count = 0;
  std::map<std::string, int> by_provider;
};

/// The plan and its figures (DESIGN §10 plan shape).
struct Plan {
  Strategy strategy = Strategy::full_time;
  Instant from{};
  Instant to{};
  int min_online = 0;        ///< least GPUs online at any instant of the horizon
  int ceiling = 0;           ///< proven upper bound on min_online (max-flow over the windows)
  double mean_online = 0;    ///< GPU-hours / horizon hours
  double above_min_hours = 0; ///< hours during which more than min_online are online
  double planned_hours = 0;
  int sessions = 0;
  int min_sessions = 0;      ///< Σ accounts ceil(planned hours / cap)
  std::vector<Slot> slots;   ///< by start, then worker
  std::vector<OnlineStep> online;
};

/// Builds the plan. Time is planned in whole minutes. Throws Error(usage) for an empty or
/// inverted horizon.
Plan make_plan(const PlanInput& in);

/// The ceiling alone: the largest k for which a max-flow from accounts through their windows into
/// the time segments between window boundaries carries k GPU-minutes per minute of every segment,
/// with each account carrying at most `concurrent` per minute. Where daily and weekly windows do
/// not nest, the daily budget applies to each day∩week piece (a relaxation: still an upper bound).
int ceiling(const PlanInput& in);

/// Recomputes min_online, mean_online, above_min_hours, planned_hours, sessions, min_sessions
/// and the online steps from `plan.slots`.
void summarise(Plan& plan, const PlanInput& in);

} // namespace gpuctl::plan
