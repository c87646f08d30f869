// SPDX-License-Identifier: MIT
// The idle rules of DESIGN §8 as pure functions: a worker's effective hibernation rules, and the
// verdict over its utilisation samples. No store, no provider.
#pragma once
#include "gpuctl/config/config.hpp"
#include "gpuctl/core/clock.hpp"
#include "gpuctl/core/duration.hpp"
#include "gpuctl/hibernate/watchdog.hpp"
#include "gpuctl/store/hibernation.hpp"

#include <optional>
#include <string>
#include <vector>

namespace gpuctl::hibernate {

/// Per-worker overrides of `[hibernate]` (`gpuctl hibernate config`), stored as JSON.
struct Overrides {
  std::optional<bool> enabled;
  std::optional<double> idle_below;            ///< percent
  std::optional<Seconds> idle_for;
  std::optional<Seconds> grace;
  std::optional<std::optional<Seconds>> delete_after; ///< inner nullopt = never
};
/// Throws Error(usage) when the stored text is not an overrides object.
Overrides overrides_from_json_text(const std::string& text);
std::string to_json_text(const Overrides& o);

/// Effective rules: overrides, else `[hibernate]`.
struct Rules {
  bool enabled = true;
  double idle_below = 5.0;           ///< percent
  Seconds idle_for{180};
  Seconds grace{600};
  std::optional<Seconds> delete_after; ///< nullopt = never
  Seconds sweep_interval{60};         ///< samples further apart than 2× this break idleness
};
Rules effective_rules(const Overrides& o, const config::Config& cfg);

/// The on-instance watchdog for `rules`, stopping the instance through the configured vast.ai
/// API (`providers.vast.base_url`, which GPUCTL_VAST_URL overrides).
WatchdogParams watchdog_params(const Rules& rules, const config::Config& cfg);

/// What the samples say.
enum class Verdict {
  busy,     ///< a sample at or above the threshold, a null one, no recent one, or a job runs
  grace,    ///< within `grace` after a start or wake: no decision
  idle,     ///< idle now, not for long enough yet
  hibernate ///< idle for at least idle_for, with no gap longer than 2 × sweep_interval
};
struct Judgement {
  Verdict verdict = Verdict::busy;
  std::string reason;                      ///< one line for events
  std::vector<store::UtilSample> evidence; ///< the idle stretch, newest first
};

/// Judges a running worker at `now` from its samples (newest first; the sweep's own sample is
/// the newest). `started` = its last start or wake (samples before it are ignored). A running
/// gpuctl job makes it busy whatever the samples say.
Judgement judge(const std::vector<store::UtilSample>& samples, Instant now,
                std::optional<Instant> started, const Rules& rules, bool job_running);

} // namespace gpuctl::hibernate
