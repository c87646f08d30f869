// SPDX-License-Identifier: MIT
// An independent checker of plans: it shares no code with lib/gpuctl/plan. From a fleet
// description and the slots alone it checks every limit, recomputes every summary figure, and
// computes the ceiling by its own max-flow (Edmonds–Karp over a dense matrix, k found by a
// linear scan), so a planner that merely reports ceiling = min_online cannot pass.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace gpuctl::test {

/// Times in minutes from the start of the horizon.
struct CWindow {
  std::string kind;
  std::int64_t start = 0, end = 0;
  std::int64_t budget = 0; ///< minutes the plan may use in it
};

struct CAccount {
  std::string name;
  std::vector<std::string> workers;
  int concurrent = 1;
  std::int64_t cap = 0; ///< longest session, minutes; 0 = none
  std::vector<CWindow> windows;
};

struct CFleet {
  std::int64_t horizon = 0;
  std::vector<CAccount> accounts;
};

struct CSlot {
  std::string worker;
  std::string account;
  std::int64_t start = 0, end = 0;
};

struct CSummary {
  int min_online = 0;
  double mean_online = 0;
  double above_min_hours = 0;
  double planned_hours = 0;
  int sessions = 0;
  int min_sessions = 0;
};

/// Every violated rule, one line each (empty = the plan is valid).
std::vector<std::string> check_slots(const CFleet& f, const std::vector<CSlot>& slots);
/// Summary figures recomputed from the slots.
CSummary summarise_slots(const CFleet& f, const std::vector<CSlot>& slots);
/// The max-flow bound on the GPUs that can be online at every instant.
int flow_bound(const CFleet& f);
/// GPU-minutes the fleet can keep `k` online from the start for the longest prefix: returns the
/// prefix length in minutes (binary search over a flow with demand k before it).
std::int64_t sustain_minutes(const CFleet& f, int k);

} // namespace gpuctl::test
