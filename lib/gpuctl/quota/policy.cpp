// SPDX-License-Identifier: MIT
#include "gpuctl/quota/policy.hpp"

#include "gpuctl/core/error.hpp"

#include <nlohmann/json.hpp>

namespace gpuctl::quota {

void
PolicyOverrides::merge(const PolicyOverrides& o)
{
  auto take = [](auto& mine, const auto& theirs) {
    if (theirs) {
      mine = theirs;
    }
  };
  take(weekly_gpu_hours, o.weekly_gpu_hours);
  take(daily_gpu_hours, o.daily_gpu_hours);
  take(session_max, o.session_max);
  take(shutdown_margin, o.shutdown_margin);
  take(concurrent, o.concurrent);
  take(max_usd_per_day, o.max_usd_per_day);
}

Policy
effective_policy(Provider provider, const PolicyOverrides& o, const config::Config& cfg)
{
  Policy p;
  if (provider == Provider::kaggle || provider == Provider::colab) {
    std::string sec = fmt::format("providers.{}.", to_string(provider));
    p.weekly_gpu_hours = cfg.get_number(sec + "weekly_gpu_hours");
    p.week_reset = cfg.get_string(sec + "week_reset");
    p.daily_gpu_hours = cfg.get_number(sec + "daily_gpu_hours");
    p.day_reset = cfg.get_string(sec + "day_reset");
    p.session_max = cfg.get_duration(sec + "session_max");
    p.shutdown_margin = cfg.get_duration(sec + "shutdown_margin");
    p.concurrent = static_cast<int>(cfg.get_int(sec + "concurrent"));
  } else if (provider == Provider::vast) {
    p.max_usd_per_day = cfg.get_number("providers.vast.max_usd_per_day");
  }
  if (o.weekly_gpu_hours) {
    p.weekly_gpu_hours = *o.weekly_gpu_hours;
  }
  if (o.daily_gpu_hours) {
    p.daily_gpu_hours = *o.daily_gpu_hours;
  }
  if (o.session_max) {
    p.session_max = *o.session_max;
  }
  if (o.shutdown_margin) {
    p.shutdown_margin = *o.shutdown_margin;
  }
  if (o.concurrent) {
    p.concurrent = *o.concurrent;
  }
  if (o.max_usd_per_day) {
    p.max_usd_per_day = *o.max_usd_per_day;
  }
  return p;
}

std::string
to_json_text(const PolicyOverrides& o)
{
  nlohmann::json j = nlohmann::json::object();
  if (o.weekly_gpu_hours) {
    j["weekly_gpu_hours"] = *o.weekly_gpu_hours;
  }
  if (o.daily_gpu_hours) {
    j["daily_gpu_hours"] = *o.daily_gpu_hours;
  }
  if (o.session_max) {
    j["session_max_s"] = o.session_max->count();
  }
  if (o.shutdown_margin) {
    j["shutdown_margin_s"] = o.shutdown_margin->count();
  }
  if (o.concurrent) {
    j["concurrent"] = *o.concurrent;
  }
  if (o.max_usd_per_day) {
    j["max_usd_per_day"] = *o.max_usd_per_day;
  }
  return j.dump();
}

PolicyOverrides
overrides_from_json_text(const std::string& text)
{
  PolicyOverrides o;
  try {
    auto j = nlohmann::json::parse(text);
    if (j.contains("weekly_gpu_hours")) {
      o.weekly_gpu_hours = j["weekly_gpu_hours"].get<double>();
    }
    if (j.contains("daily_gpu_hours")) {
      o.daily_gpu_hours = j["daily_gpu_hours"].get<double>();
    }
    if (j.contains("session_max_s")) {
      o.session_max = Seconds(j["session_max_s"].get<long long>());
    }
    if (j.contains("shutdown_margin_s")) {
      o.shutdown_margin = Seconds(j["shutdown_margin_s"].get<long long>());
    }
    if (j.contains("concurrent")) {
      o.concurrent = j["concurrent"].get<int>();
    }
    if (j.contains("max_usd_per_day")) {
      o.max_usd_per_day = j["max_usd_per_day"].get<double>();
    }
  } catch (const nlohmann::json::exception& e) {
    throw_usage("stored account policy is not valid: {}", e.what());
  }
  return o;
}

void
validate_effective(const Policy& p)
{
  if (p.session_max && p.shutdown_margin >= *p.session_max) {
    throw_usage("the shutdown margin ({}) must be shorter than the session cap ({})",
                format_duration(p.shutdown_margin), format_duration(*p.session_max));
  }
}

void
validate(const PolicyOverrides& o, Provider provider)
{
  auto hours = [](const std::optional<double>& v, std::string_view flag) {
    if (v && !(*v >= 0 && *v <= 10000)) {
      throw_usage("invalid {} {}: hours must be between 0 and 10000", flag, *v);
    }
  };
  hours(o.weekly_gpu_hours, "--weekly-hours");
  hours(o.daily_gpu_hours, "--daily-hours");
  if (o.daily_gpu_hours && *o.daily_gpu_hours > 24) {
    throw_usage("invalid --daily-hours {}: a day has 24 hours", *o.daily_gpu_hours);
  }
  if (o.weekly_gpu_hours && *o.weekly_gpu_hours > 168) {
    throw_usage("invalid --weekly-hours {}: a week has 168 hours", *o.weekly_gpu_hours);
  }
  if (o.session_max && o.session_max->count() <= 0) {
    throw_usage("invalid --session-max: must be longer than 0s");
  }
  if (o.session_max && o.shutdown_margin && *o.shutdown_margin >= *o.session_max) {
    throw_usage("invalid --shutdown-margin: must be shorter than --session-max");
  }
  if (o.concurrent && *o.concurrent < 1) {
    throw_usage("invalid --concurrent {}: must be at least 1", *o.concurrent);
  }
  if (o.max_usd_per_day) {
    if (!(*o.max_usd_per_day >= 0 && *o.max_usd_per_day <= 100000)) {
      throw_usage("invalid --max-usd-per-day {}: must be between 0 and 100000", *o.max_usd_per_day);
    }
    if (provider != Provider::vast) {
      throw_usage("--max-usd-per-day applies to vast accounts only");
    }
  }
}

} // namespace gpuctl::quota
