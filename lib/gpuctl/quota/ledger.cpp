// SPDX-License-Identifier: MIT
#include "gpuctl/quota/ledger.hpp"

#include "gpuctl/core/error.hpp"

#include <date/date.h>

#include <algorithm>
#include <array>
#include <cmath>

namespace gpuctl::quota {

namespace {

using namespace std::chrono;

seconds
hhmm(std::string_view s)
{
  if (s.size() != 5 || s[2] != ':') {
    throw_usage("invalid reset time '{}': expected HH:MM", s);
  }
  return hours((s[0] - '0') * 10 + (s[1] - '0')) + minutes((s[3] - '0') * 10 + (s[4] - '0'));
}

// Tolerance for shares computed from whole seconds (0.7 × 30 h is exact, but be safe).
constexpr double k_eps = 1e-9;

} // namespace

Instant
weekly_window_start(const std::string& reset, Instant t)
{
  static constexpr std::array<std::string_view, 7> names = {"sun", "mon", "tue", "wed",
                                                             "thu", "fri", "sat"};
  auto it = std::find(names.begin(), names.end(), std::string_view(reset).substr(0, 3));
  if (reset.size() != 9 || it == names.end()) {
    throw_usage("invalid weekly reset '{}': expected e.g. \"sat 00:00\"", reset);
  }
  date::weekday wd{static_cast<unsigned>(it - names.begin())};
  seconds tod = hhmm(std::string_view(reset).substr(4));
  auto day = floor<date::days>(t);
  // Days back from today to the reset weekday.
  auto back = date::weekday{day} - wd;
  Instant candidate = Instant{day - back} + tod;
  if (candidate > t) {
    candidate -= date::days(7);
  }
  return candidate;
}

Instant
daily_window_start(const std::string& reset, Instant t)
{
  seconds tod = hhmm(reset);
  Instant candidate = Instant{floor<date::days>(t)} + tod;
  if (candidate > t) {
    candidate -= date::days(1);
  }
  return candidate;
}

std::vector<Window>
windows_at(const Policy& p, Instant t)
{
  std::vector<Window> out;
  if (p.weekly_gpu_hours > 0) {
    Instant s = weekly_window_start(p.week_reset, t);
    out.push_back({"weekly", s, s + date::days(7), p.weekly_gpu_hours});
  }
  if (p.daily_gpu_hours > 0) {
    Instant s = daily_window_start(p.day_reset, t);
    out.push_back({"daily", s, s + date::days(1), p.daily_gpu_hours});
  }
  return out;
}

std::string
status_of(std::optional<double> share, double safe_below, double critical_above)
{
  if (!share) {
    return "safe";
  }
  double s = *share + k_eps;
  if (s >= 1.0) {
    return "exhausted";
  }
  if (s >= critical_above) {
    return "critical";
  }
  if (s >= safe_below) {
    return "warning";
  }
  return "safe";
}

std::optional<Instant>
budget_runout(const std::vector<WindowUsage>& windows, int open, Instant now)
{
  if (windows.empty()) {
    return std::nullopt;
  }
  open = std::max(open, 1);
  std::optional<Instant> earliest;
  for (const auto& w : windows) {
    // Seconds of wall time the remaining budget lasts with `open` sessions burning it.
    auto lasts = [&](double budget_left_h) {
      return seconds(static_cast<std::int64_t>(std::floor(budget_left_h * 3600.0 / open)));
    };
    Instant runout = now + lasts(w.window.budget_h - w.used_h); // may lie in the past
    Instant window_end = w.window.end;
    // The window resets before the budget runs out: continue with a full budget (bounded: a
    // session never outlives a few windows).
    const auto len = w.window.end - w.window.start;
    for (int i = 0; i < 8 && runout > window_end; ++i) {
      runout = window_end + lasts(w.window.budget_h);
      window_end += len;
    }
    if (!earliest || runout < *earliest) {
      earliest = runout;
    }
  }
  return earliest;
}

std::optional<Instant>
session_deadline(const Policy& p, Instant started, std::optional<Instant> runout)
{
  std::optional<Instant> end;
  if (p.session_max) {
    end = started + *p.session_max;
  }
  if (runout && (!end || *runout < *end)) {
    end = runout;
  }
  if (!end) {
    return std::nullopt;
  }
  return *end - p.shutdown_margin;
}

std::optional<std::string>
warning_level(std::optional<Instant> deadline, Instant now)
{
  if (!deadline) {
    return std::nullopt;
  }
  auto left = *deadline - now;
  if (left < seconds(0)) {
    return "past";
  }
  if (left <= minutes(30)) {
    return "30m";
  }
  if (left <= hours(1)) {
    return "1h";
  }
  return std::nullopt;
}

} // namespace gpuctl::quota
