// SPDX-License-Identifier: MIT
#include "gpuctl/sched/snapshot.hpp"

#include "gpuctl/quota/service.hpp"
#include "gpuctl/store/jobs.hpp"
#include "gpuctl/store/sessions.hpp"

#include <nlohmann/json.hpp>

namespace gpuctl::sched {

using json = nlohmann::json;

std::string
cannot_run(const std::string& provider, const JobSpec& spec)
{
  if (provider == "kaggle") {
    return spec.kind == "command" ? "Kaggle runs scripts and notebooks, not commands" : "";
  }
  if (provider == "ssh" || provider == "vast") {
    return spec.kind == "notebook" ? "ssh and vast.ai workers run commands and scripts, not notebooks"
                                   : "";
  }
  if (provider == "colab") {
    return "Colab has no API gpuctl drives; a person runs it";
  }
  return "unknown provider";
}

bool
session_per_job(const std::string& provider)
{
  return provider == "kaggle";
}

std::map<std::int64_t, AccountLoad>
account_loads(store::Database& db, const config::Config& cfg, Instant now)
{
  std::map<std::int64_t, AccountLoad> out;
  double safe = cfg.get_number("quota.safe_below");
  double critical = cfg.get_number("quota.critical_above");
  auto quotas = quota::compute_quotas(db, cfg, now);
  // Time each open session still commits: its job's timeout, else the session's deadline.
  std::map<std::int64_t, Instant> job_end_by_session;
  for (const auto& j : store::active_jobs(db.sql())) {
    if (j.session_id && j.dispatched_at) {
      std::int64_t limit = run_limit_s(j);
      if (limit > 0) {
        job_end_by_session[*j.session_id] = *j.dispatched_at + Seconds{limit};
      }
    }
  }
  for (const auto& q : quotas) {
    AccountLoad a;
    a.id = q.account.id;
    a.name = q.account.name;
    a.policy = q.policy;
    a.windows = q.windows;
    a.open_sessions = static_cast<int>(q.sessions.size());
    a.session_per_job = session_per_job(q.account.provider);
    a.money_status = q.spend ? q.status : "safe";
    a.safe_below = safe;
    a.critical_above = critical;
    for (const auto& s : q.sessions) {
      std::optional<Instant> end;
      if (auto it = job_end_by_session.find(s.session.id); it != job_end_by_session.end()) {
        end = it->second;
      }
      if (s.deadline && (!end || *s.deadline < *end)) {
        end = s.deadline;
      }
      if (end && *end > now) {
        a.committed_h += quota::to_hours((*end - now).count());
      }
    }
    out.emplace(a.id, std::move(a));
  }
  return out;
}

std::vector<WorkerView>
worker_views(store::Database& db, const std::vector<store::WorkerRow>& ws, Instant now)
{
  std::set<std::int64_t> busy;
  for (const auto& j : store::active_jobs(db.sql())) {
    if (j.worker_id) {
      busy.insert(*j.worker_id);
    }
  }
  // A Kaggle worker whose GPU session is already open (started by hand with `session start`)
  // is in use: a dispatch there would open a second session on it.
  std::set<std::int64_t> in_session;
  for (const auto& s : store::open_sessions(db.sql())) {
    if (s.worker_id) {
      in_session.insert(*s.worker_id);
    }
  }
  auto last = store::last_dispatched_all(db.sql());
  auto slots = store::active_plan_slots_at(db.sql(), now);
  std::set<std::int64_t> in_slot;
  if (slots) {
    for (const auto& s : *slots) {
      in_slot.insert(s.worker_id);
    }
  }
  std::vector<WorkerView> out;
  out.reserve(ws.size());
  for (const auto& w : ws) {
    WorkerView v;
    v.id = w.id;
    v.name = w.name;
    v.provider = w.provider;
    v.gpu = w.gpu;
    v.account_id = w.account_id;
    v.enabled = w.enabled;
    v.online = w.state == "online" || w.state == "idle";
    // A machine the autoscaler runs for Dask belongs to Dask: gpuctl jobs do not go there.
    v.busy = busy.count(w.id) > 0 || w.control == "autoscale" ||
             (session_per_job(w.provider) && in_session.count(w.id) > 0);
    v.in_slot = !slots || (w.provider != "kaggle" && w.provider != "colab") ||
                in_slot.count(w.id) > 0;
    if (auto it = last.find(w.id); it != last.end()) {
      v.last_dispatched = it->second;
    }
    out.push_back(std::move(v));
  }
  return out;
}


JobNeed
job_need(const store::JobRow& j, const JobSpec& spec, const std::set<std::string>& providers)
{
  JobNeed n;
  n.id = j.id;
  n.provider = spec.provider;
  n.worker = spec.worker;
  n.gpu = spec.gpu;
  n.timeout_s = j.timeout_s;
  for (const auto& p : providers) {
    if (cannot_run(p, spec).empty()) {
      n.runnable_on.insert(p);
    }
  }
  auto r = json::parse(j.result_json, nullptr, false);
  if (r.is_object() && r.contains("lost_on") && r["lost_on"].is_array()) {
    for (const auto& id : r["lost_on"]) {
      if (id.is_number_integer()) {
        n.avoid.insert(id.get<std::int64_t>());
      }
    }
  }
  return n;
}

} // namespace gpuctl::sched
