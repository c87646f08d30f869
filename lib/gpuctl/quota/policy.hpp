// SPDX-License-Identifier: MIT
#pragma once
#include "gpuctl/config/config.hpp"
#include "gpuctl/core/duration.hpp"
#include "gpuctl/core/names.hpp"

#include <optional>
#include <string>

namespace gpuctl::quota {

/// Per-account overrides of the provider policy (`account add|set` flags, DESIGN §4–5). Unset
/// fields fall back to `[providers.NAME]`, then to built-in defaults. Stored as policy_json.
struct PolicyOverrides {
  std::optional<double> weekly_gpu_hours; ///< hours; 0 = no weekly window
  std::optional<double> daily_gpu_hours;  ///< hours; 0 = no daily window
  std::optional<Seconds> session_max;     ///< cap on one session
  std::optional<Seconds> shutdown_margin; ///< stop this long before cap/budget
  std::optional<int> concurrent;          ///< sessions at once, ≥ 1
  std::optional<double> max_usd_per_day;  ///< USD; 0 = no limit (vast)

  bool operator==(const PolicyOverrides&) const = default;
  /// Fields set in `other` replace those here.
  void merge(const PolicyOverrides& other);
  bool empty() const { return *this == PolicyOverrides{}; }
};

/// The effective policy of an account (DESIGN §5).
struct Policy {
  double weekly_gpu_hours = 0;          ///< hours per week; 0 = no weekly window
  std::string week_reset = "sat 00:00"; ///< UTC day and time of the weekly reset
  double daily_gpu_hours = 0;           ///< hours per day; 0 = no daily window
  std::string day_reset = "00:00";      ///< UTC time of the daily reset
  std::optional<Seconds> session_max;   ///< nullopt = no cap (vast, ssh)
  Seconds shutdown_margin{0};
  std::optional<int> concurrent;        ///< nullopt = unlimited (vast, ssh)
  double max_usd_per_day = 0;           ///< USD; 0 = no limit
};

/// Effective policy = overrides, else the `[providers.NAME]` config keys, else built-in defaults
/// (vast and ssh have no hour budget, no session cap and no concurrency limit).
Policy effective_policy(Provider provider, const PolicyOverrides& overrides,
                        const config::Config& cfg);

/// policy_json (only the overridden fields; durations in seconds, `_s` suffix) ⇄ struct.
std::string to_json_text(const PolicyOverrides& o);
/// Throws Error(usage) when the stored text is not valid policy JSON.
PolicyOverrides overrides_from_json_text(const std::string& text);

/// Checks the effective policy: a shutdown margin shorter than the session cap. Throws
/// Error(usage) naming both.
void validate_effective(const Policy& p);

/// Checks overrides against their rules (hours ≥ 0, session_max > 0, concurrent ≥ 1,
/// max_usd_per_day ≥ 0 and only for vast). Throws Error(usage) naming the flag.
void validate(const PolicyOverrides& o, Provider provider);

} // namespace gpuctl::quota
