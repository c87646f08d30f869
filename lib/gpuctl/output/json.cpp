// SPDX-License-Identifier: MIT
#include "gpuctl/output/json.hpp"

#include "gpuctl/core/time.hpp"

#include <cmath>

namespace gpuctl::output {

using json = nlohmann::ordered_json;

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
  // Built field by field: an initializer list copies every value twice, which dominated
  // `worker list --json` over 1,000 workers.
  json j = json::object();
  j.get_ref<json::object_t&>().reserve(15);
  j.emplace("name", w.name);
  j.emplace("account", w.account);
  j.emplace("provider", w.provider);
  j.emplace("gpu", w.gpu.empty() ? json(nullptr) : json(w.gpu));
  j.emplace("gpu_count", w.gpu_count);
  j.emplace("enabled", w.enabled);
  j.emplace("state", w.state);
  j.emplace("control", w.control);
  j.emplace("host", opt(w.host));
  j.emplace("instance_id", w.provider == "vast" ? opt(w.provider_ref) : json(nullptr));
  j.emplace("price_usd_per_hour", opt(w.price_usd_per_hour));
  j.emplace("gpu_util", opt(w.gpu_util));
  j.emplace("last_seen", instant_json(w.last_seen_at));
  j.emplace("created", instant_json(w.created_at));
  j.emplace("session", json(session));
  return j;
}

void
worker_json_into(json& into, const store::WorkerRow& w, const json& session)
{
  if (!into.is_object() || into.size() != 15) {
    into = worker_json(w, session);
    return;
  }
  // ordered_map keeps worker_json's field order: overwrite the values in that order.
  auto f = into.get_ref<json::object_t&>().begin();
  (f++)->second = w.name;
  (f++)->second = w.account;
  (f++)->second = w.provider;
  (f++)->second = w.gpu.empty() ? json(nullptr) : json(w.gpu);
  (f++)->second = w.gpu_count;
  (f++)->second = w.enabled;
  (f++)->second = w.state;
  (f++)->second = w.control;
  (f++)->second = opt(w.host);
  (f++)->second = w.provider == "vast" ? opt(w.provider_ref) : json(nullptr);
  (f++)->second = opt(w.price_usd_per_hour);
  (f++)->second = opt(w.gpu_util);
  (f++)->second = instant_json(w.last_seen_at);
  (f++)->second = instant_json(w.created_at);
  f->second = session;
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
worker_session_json(const quota::OpenSession& s)
{
  return json{{"id", s.session.id},
              {"started", instant_json(s.session.started_at)},
              {"deadline", instant_json(s.deadline)}};
}

namespace {

// Hours rounded to the second's precision, so JSON shows 21.0 rather than 20.999999999999996.
double
round_h(double h)
{
  return std::round(h * 3600.0 * 1000.0) / (3600.0 * 1000.0);
}

json
opt_h(const std::optional<double>& v)
{
  return v ? json(round_h(*v)) : json(nullptr);
}

} // namespace

json
quota_json(const quota::AccountQuota& q)
{
  json windows = json::array();
  for (const auto& w : q.windows) {
    windows.push_back({{"kind", w.window.kind},
                       {"start", instant_json(w.window.start)},
                       {"end", instant_json(w.window.end)},
                       {"budget_h", w.window.budget_h},
                       {"used_h", round_h(w.used_h)},
                       {"left_h", round_h(w.left_h)},
                       {"share", round_h(w.share)}});
  }
  json sessions = json::array();
  for (const auto& s : q.sessions) {
    sessions.push_back({{"id", s.session.id},
                        {"worker", s.session.worker},
                        {"started", instant_json(s.session.started_at)},
                        {"deadline", instant_json(s.deadline)},
                        {"left_s", s.left ? json(s.left->count()) : json(nullptr)},
                        {"warning", opt(s.warning)}});
  }
  json out{{"account", q.account.name},
           {"provider", q.account.provider},
           {"status", q.status},
           {"share", opt_h(q.share)},
           {"binding", opt(q.binding)},
           {"left_h", opt_h(q.left_h)},
           {"usable_h", opt_h(q.usable_h)},
           {"next_reset", instant_json(q.next_reset)},
           {"estimated", q.estimated},
           {"windows", windows},
           {"sessions", sessions}};
  if (q.spend) {
    out["spend"] = {{"day_start", instant_json(q.spend->day_start)},
                    {"day_end", instant_json(q.spend->day_end)},
                    {"spent_usd", std::round(q.spend->usd * 1e6) / 1e6},
                    {"max_usd_per_day", q.spend->max_usd_per_day}};
  }
  return out;
}

json
session_json(const store::SessionRow& s, std::optional<Instant> deadline, Instant now)
{
  Instant end = s.ended_at ? *s.ended_at : now;
  return json{{"id", s.id},
              {"worker", s.worker},
              {"account", s.account},
              {"started", instant_json(s.started_at)},
              {"ended", instant_json(s.ended_at)},
              {"duration_s", std::max<long long>(0, (end - s.started_at).count())},
              {"reason", opt(s.end_reason)},
              {"deadline", instant_json(deadline)}};
}

json
status_json(const fleet::PoolStatus& s)
{
  return json{{"workers",
               {{"total", s.workers_total},
                {"online", s.workers_online},
                {"enabled", s.workers_enabled},
                {"by_state", s.by_state},
                {"by_provider", s.by_provider}}},
              {"accounts",
               {{"safe", s.bands.at("safe")},
                {"warning", s.bands.at("warning")},
                {"critical", s.bands.at("critical")},
                {"exhausted", s.bands.at("exhausted")}}},
              {"usable_hours_left", round_h(s.usable_hours_left)},
              {"utilization", opt_h(s.utilization)}};
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

json
job_json(const store::JobRow& j, const std::string& provider, const std::string& output_dir,
         const std::optional<std::string>& why_queued)
{
  json o;
  o["id"] = j.id;
  o["name"] = j.name;
  o["state"] = j.state;
  o["priority"] = j.priority;
  o["attempts"] = j.attempts;
  o["max_attempts"] = j.max_attempts;
  o["worker"] = j.worker_name ? json(*j.worker_name) : json(nullptr);
  o["provider"] = provider.empty() ? json(nullptr) : json(provider);
  o["submitted"] = instant_json(j.submitted_at);
  o["started"] = instant_json(j.started_at);
  o["ended"] = instant_json(j.ended_at);
  o["timeout_s"] = j.timeout_s ? json(*j.timeout_s) : json(nullptr);
  o["exit_code"] = j.exit_code ? json(*j.exit_code) : json(nullptr);
  o["output_dir"] = output_dir;
  o["why_queued"] = why_queued ? json(*why_queued) : json(nullptr);
  o["cancel_requested"] = j.cancel_requested;
  return o;
}

json
event_json(const store::EventRow& e)
{
  json o;
  o["id"] = e.id;
  o["at"] = instant_json(e.at);
  o["type"] = e.type;
  o["worker"] = e.worker ? json(*e.worker) : json(nullptr);
  o["job"] = e.job_id ? json(*e.job_id) : json(nullptr);
  o["reason"] = e.reason;
  json d = json::parse(e.detail_json, nullptr, false);
  o["detail"] = d.is_discarded() ? json::object() : d;
  return o;
}

} // namespace gpuctl::output
