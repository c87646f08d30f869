// SPDX-License-Identifier: MIT
#include "gpuctl/hibernate/idle.hpp"

#include "gpuctl/core/error.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace gpuctl::hibernate {

using json = nlohmann::json;

Overrides
overrides_from_json_text(const std::string& text)
{
  json j = json::parse(text, nullptr, false);
  if (!j.is_object()) {
    throw_usage("stored hibernation settings are not JSON: {}", text.substr(0, 60));
  }
  Overrides o;
  try {
    if (j.contains("enabled")) o.enabled = j["enabled"].get<bool>();
    if (j.contains("idle_below")) o.idle_below = j["idle_below"].get<double>();
    if (j.contains("idle_for_s")) o.idle_for = Seconds{j["idle_for_s"].get<std::int64_t>()};
    if (j.contains("grace_s")) o.grace = Seconds{j["grace_s"].get<std::int64_t>()};
    if (j.contains("delete_after_s")) {
      o.delete_after = j["delete_after_s"].is_null()
                           ? std::optional<Seconds>{}
                           : std::optional<Seconds>{Seconds{j["delete_after_s"].get<std::int64_t>()}};
    }
  } catch (const json::exception& e) {
    throw_usage("stored hibernation settings are malformed: {}", e.what());
  }
  return o;
}

std::string
to_json_text(const Overrides& o)
{
  json j = json::object();
  if (o.enabled) j["enabled"] = *o.enabled;
  if (o.idle_below) j["idle_below"] = *o.idle_below;
  if (o.idle_for) j["idle_for_s"] = o.idle_for->count();
  if (o.grace) j["grace_s"] = o.grace->count();
  if (o.delete_after) {
    j["delete_after_s"] = *o.delete_after ? json((*o.delete_after)->count()) : json(nullptr);
  }
  return j.dump();
}

Rules
effective_rules(const Overrides& o, const config::Config& cfg)
{
  Rules r;
  r.enabled = o.enabled.value_or(cfg.get_bool("hibernate.enabled"));
  r.idle_below = o.idle_below.value_or(cfg.get_number("hibernate.idle_gpu_below"));
  r.idle_for = o.idle_for.value_or(cfg.get_duration("hibernate.idle_for"));
  r.grace = o.grace.value_or(cfg.get_duration("hibernate.grace"));
  r.delete_after = o.delete_after ? *o.delete_after
                                  : cfg.get_duration_or_never("hibernate.delete_after");
  r.sweep_interval = cfg.get_duration("hibernate.sweep_interval");
  return r;
}

WatchdogParams
watchdog_params(const Rules& rules, const config::Config& cfg)
{
  WatchdogParams p;
  p.idle_below = rules.idle_below;
  p.idle_for = std::chrono::seconds(rules.idle_for.count());
  p.api_base = cfg.get_string("providers.vast.base_url");
  return p;
}

Judgement
judge(const std::vector<store::UtilSample>& samples, Instant now, std::optional<Instant> started,
      const Rules& rules, bool job_running)
{
  Judgement j;
  if (job_running) {
    j.reason = "a gpuctl job runs there";
    return j;
  }
  if (started && now - *started < rules.grace) {
    j.verdict = Verdict::grace;
    j.reason = fmt::format("within its grace ({}) after a start or wake", format_duration(rules.grace));
    return j;
  }
  const Seconds max_gap = 2 * rules.sweep_interval;
  if (samples.empty() || now - samples.front().at > max_gap) {
    j.reason = "no recent utilisation sample";
    return j;
  }
  const auto& latest = samples.front();
  if (!latest.gpu_util) {
    j.reason = "the listing gave no utilisation (counted as busy)";
    return j;
  }
  if (*latest.gpu_util >= rules.idle_below) {
    j.reason = fmt::format("GPU at {:.0f}%", *latest.gpu_util);
    return j;
  }
  for (std::size_t i = 0; i < samples.size(); ++i) {
    const auto& s = samples[i];
    if ((started && s.at < *started) || !s.gpu_util || *s.gpu_util >= rules.idle_below ||
        (i > 0 && samples[i - 1].at - s.at > max_gap)) {
      break;
    }
    j.evidence.push_back(s);
  }
  Seconds span = latest.at - j.evidence.back().at;
  if (span >= rules.idle_for) {
    j.verdict = Verdict::hibernate;
    j.reason = fmt::format("GPU below {:.0f}% for {} ({} samples)", rules.idle_below,
                           format_duration(span), j.evidence.size());
  } else {
    j.verdict = Verdict::idle;
    j.reason = fmt::format("GPU below {:.0f}% for {} of {}", rules.idle_below,
                           span.count() == 0 ? std::string("0s") : format_duration(span),
                           format_duration(rules.idle_for));
  }
  return j;
}

} // namespace gpuctl::hibernate
