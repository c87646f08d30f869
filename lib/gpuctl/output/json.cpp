// SPDX-License-Identifier: MIT
#include "gpuctl/output/json.hpp"

#include "gpuctl/core/time.hpp"

namespace gpuctl::output {

using nlohmann::json;

json
instant_json(const std::optional<Instant>& t)
{
  return t ? json(format_rfc3339(*t)) : json(nullptr);
}

namespace {

template <typename T>
json
opt(const std::optional<T>& v)
{
  return v ? json(*v) : json(nullptr);
}

} // namespace

json
worker_json(const store::WorkerRow& w, const json& session)
{
  return json{
      {"name", w.name},
      {"account", w.account},
      {"provider", w.provider},
      {"gpu", w.gpu.empty() ? json(nullptr) : json(w.gpu)},
      {"gpu_count", w.gpu_count},
      {"enabled", w.enabled},
      {"state", w.state},
      {"control", w.control},
      {"host", opt(w.host)},
      {"instance_id", w.provider == "vast" ? opt(w.provider_ref) : json(nullptr)},
      {"price_usd_per_hour", opt(w.price_usd_per_hour)},
      {"gpu_util", opt(w.gpu_util)},
      {"last_seen", instant_json(w.last_seen_at)},
      {"created", instant_json(w.created_at)},
      {"session", session},
  };
}

json
account_json(const fleet::AccountView& a)
{
  const auto& p = a.policy;
  json overrides = json::array();
  const auto& o = a.overrides;
  if (o.weekly_gpu_hours) overrides.push_back("weekly_gpu_hours");
  if (o.daily_gpu_hours) overrides.push_back("daily_gpu_hours");
  if (o.session_max) overrides.push_back("session_max_s");
  if (o.shutdown_margin) overrides.push_back("shutdown_margin_s");
  if (o.concurrent) overrides.push_back("concurrent");
  if (o.max_usd_per_day) overrides.push_back("max_usd_per_day");
  return json{
      {"name", a.row.name},
      {"provider", a.row.provider},
      {"workers", a.row.workers},
      {"credentials", opt(a.credentials)},
      {"policy",
       {
           {"weekly_gpu_hours", p.weekly_gpu_hours},
           {"daily_gpu_hours", p.daily_gpu_hours},
           {"session_max_s", p.session_max ? json(p.session_max->count()) : json(nullptr)},
           {"shutdown_margin_s", p.shutdown_margin.count()},
           {"concurrent", opt(p.concurrent)},
           {"max_usd_per_day", p.max_usd_per_day},
       }},
      {"overrides", overrides},
      {"created", instant_json(a.row.created_at)},
  };
}

json
config_json(const config::Config& cfg)
{
  json out = json::object();
  for (const auto& e : cfg.entries()) {
    json value = std::visit([](const auto& x) { return json(x); }, e.value);
    out[std::string(e.spec->name)] = {{"value", value}, {"source", config::to_string(e.source)}};
  }
  return out;
}

} // namespace gpuctl::output
