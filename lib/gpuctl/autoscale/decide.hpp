// SPDX-License-Identifier: MIT
// The autoscaler's decision for one tick, as a pure function of what Dask said and what gpuctl
// runs (DESIGN §2 autoscale/, ../shared/specs/dask-http.md §3.3): how many machines gpuctl wants
// in the cluster, how many to start now, and which of its idle Dask workers to retire. No I/O.
#pragma once
#include "gpuctl/core/clock.hpp"
#include "gpuctl/core/duration.hpp"

#include <optional>
#include <string>
#include <vector>

namespace gpuctl::autoscale {

/// Limits of the loop (`[autoscale]`, DESIGN §4, or the command's flags).
struct Params {
  int min = 0;     ///< fewest machines gpuctl keeps in the cluster
  int max = 4;     ///< most machines gpuctl runs for Dask
  int step_up = 2; ///< most machines started in one tick
  Seconds scale_down_after{600}; ///< demand must stay low this long before retiring
  Seconds boot_timeout{900};     ///< a started machine whose worker has not joined by then is stopped
  /// A worker that left the cluster without being retired (its scheduler restarted, it crashed)
  /// gets this long to come back before its machine is stopped (its retry loop restarts a
  /// crashed worker in seconds; one whose scheduler closed has ended).
  Seconds rejoin_timeout{180};
};

/// One machine the autoscaler runs for Dask.
struct Member {
  std::string worker;  ///< gpuctl worker name
  bool joined = false; ///< its worker ("gpuctl-<worker>") is in get_workers
  std::string address; ///< its Dask address when joined
  bool idle = false;   ///< joined and Dask's task counts say it does nothing
  Instant booted_at{}; ///< when gpuctl started it, or when its worker left the cluster
  bool rejoining = false; ///< not joined: its worker was in the cluster and left (rejoin_timeout)
};

/// What Dask reported this tick.
struct Demand {
  int target = 0;      ///< adaptive_target: workers the whole cluster should have
  int unrunnable = 0;  ///< tasks no connected worker can run (no-worker), e.g. waiting for a GPU
  int num_workers = 0; ///< every worker connected, gpuctl's or not
};

struct Decision {
  int others = 0;   ///< connected workers that are not gpuctl's (never touched)
  int joined = 0;   ///< gpuctl's machines in the cluster
  int booting = 0;  ///< gpuctl's machines started and not joined yet (within boot_timeout)
  int want = 0;     ///< machines gpuctl should run before clamping
  int desired = 0;  ///< want clamped to [min, max]
  int start = 0;    ///< machines to start this tick (≤ step_up)
  /// Addresses to retire (idle members only, never below `desired`), when the demand has been
  /// low for scale_down_after.
  std::vector<std::string> retire;
  /// Workers started more than boot_timeout ago that never joined, or that left more than
  /// rejoin_timeout ago and did not come back.
  std::vector<std::string> boot_timed_out;
  std::optional<Instant> low_since;        ///< the new value of the low-demand clock
  /// Tasks stay unrunnable although gpuctl's GPU workers are up: they need something gpuctl's
  /// machines do not offer (spec §3.3); nothing is started for them.
  bool unrunnable_unserved = false;
  std::string why; ///< one line with the numbers that drove the decision
};

/// Decides one tick at `now`. `low_since` is the low-demand clock from the previous tick.
///
/// want = max(0, target − others); with unrunnable tasks and no gpuctl worker joined, at least 1
/// (the adaptive target ignores no-worker tasks, spec §3.1). desired = clamp(want, min, max).
/// current = joined + booting: start min(desired − current, step_up) when positive. When desired
/// < joined the demand is low: after low_since + scale_down_after, retire up to joined − desired
/// idle members (oldest boot first); otherwise the clock is reset.
Decision decide(const Demand& d, const std::vector<Member>& members, const Params& p,
                std::optional<Instant> low_since, Instant now);

} // namespace gpuctl::autoscale
