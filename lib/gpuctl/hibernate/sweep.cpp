// SPDX-License-Identifier: MIT
#include "gpuctl/hibernate/sweep.hpp"

#include "gpuctl/core/duration.hpp"
#include "gpuctl/core/error.hpp"
#include "gpuctl/core/time.hpp"
#include "gpuctl/hibernate/idle.hpp"
#include "gpuctl/hibernate/wake_schedule.hpp"
#include "gpuctl/net/caller.hpp"
#include "gpuctl/store/hibernation.hpp"
#include "gpuctl/store/jobs.hpp"
#include "gpuctl/store/provider_state.hpp"
#include "gpuctl/store/registry.hpp"
#include "gpuctl/store/sessions.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>

namespace gpuctl::hibernate {

using json = nlohmann::json;

namespace {

bool
job_runs_on(store::Database& db, std::int64_t worker_id)
{
  for (const auto& j : store::active_jobs(db.sql())) {
    if (j.worker_id == worker_id) {
      return true;
    }
  }
  return false;
}

json
samples_json(const std::vector<store::UtilSample>& samples)
{
  json a = json::array();
  for (const auto& s : samples) {
    a.push_back({{"at", format_rfc3339(s.at)},
                 {"gpu_util", s.gpu_util ? json(*s.gpu_util) : json(nullptr)}});
  }
  return a;
}

} // namespace

bool
running_state(const std::string& s)
{
  return s == "online" || s == "idle" || s == "starting";
}

/// Claims a running worker for a stop in one IMMEDIATE transaction (so the scheduler never
/// dispatches to it meanwhile), stops it, and records it hibernated.
store::WorkerRow
hibernate_worker(store::Database& db, cloud::Env& e, const std::string& name,
                 const std::string& reason, const json& evidence)
{
  Instant now = e.clock.now();
  std::string before = db.write([&] {
    auto w = store::require_worker(db.sql(), name);
    if (w.provider != "vast") {
      throw_usage("worker '{}' is a {} worker; hibernation applies to vast.ai workers", name,
                  w.provider);
    }
    if (!running_state(w.state)) {
      throw_usage("worker '{}' is {}, not running", name, w.state);
    }
    if (job_runs_on(db, w.id)) {
      throw_conflict("a gpuctl job runs on '{}': not hibernating it", name);
    }
    store::set_worker_state(db.sql(), w.id, "stopping", w.last_seen_at.value_or(now));
    return w.state;
  });
  try {
    cloud::stop_worker(db, e, name, "hibernated");
  } catch (const net::CallError& err) {
    db.write([&] {
      auto w = store::require_worker(db.sql(), name);
      if (w.state == "stopping") {
        store::set_worker_state(db.sql(), w.id, before, w.last_seen_at.value_or(now));
      }
      if (err.maybe_delivered() && w.provider_ref) {
        // The stop may have been carried out (a timeout, a 5xx, a garbled answer): its intent
        // was settled as failed, so keep an open one, so that the next listing that shows the
        // instance stopped completes the hibernation (session closed as "hibernated") and one
        // that shows it running settles it (sync_workers).
        store::IntentRow in;
        in.kind = "stop";
        in.worker_id = w.id;
        in.key = *w.provider_ref;
        in.created_at = now;
        in.detail_json = json{{"close_reason", "hibernated"}, {"maybe_delivered", true}}.dump();
        store::insert_intent(db.sql(), in);
      }
    });
    throw;
  } catch (...) {
    db.write([&] {
      auto w = store::require_worker(db.sql(), name);
      if (w.state == "stopping") {
        store::set_worker_state(db.sql(), w.id, before, w.last_seen_at.value_or(now));
      }
    });
    throw;
  }
  return db.write([&] {
    auto w = store::require_worker(db.sql(), name);
    store::set_worker_state(db.sql(), w.id, "hibernated", w.last_seen_at.value_or(now));
    auto h = store::hibernation_of(db.sql(), w.id);
    h.hibernated_at = now;
    h.idle_since.reset();
    store::save_hibernation(db.sql(), h);
    store::insert_event(db.sql(), now, "hibernated", w.id, reason,
                        json{{"samples", evidence}, {"instance_id", w.provider_ref.value_or("")}}
                            .dump());
    return store::require_worker(db.sql(), name);
  });
}


SweepReport
sweep(store::Database& db, cloud::Env& e, bool dry_run)
{
  SweepReport rep;
  const Instant now = e.clock.now();
  std::set<std::string> failed;
  if (!dry_run) {
    // A sweep that died after claiming a worker and before its stop call left it "stopping"
    // with no stop intent: nothing was sent, so it is running as before.
    db.write([&] {
      for (const auto& w : store::list_workers(db.sql(), {"", "vast"})) {
        if (w.state != "stopping") {
          continue;
        }
        bool stop_sent = false;
        for (const auto& in : store::open_intents_of_worker(db.sql(), w.id)) {
          stop_sent = stop_sent || in.kind == "stop";
        }
        if (!stop_sent) {
          store::set_worker_state(db.sql(), w.id, "online", w.last_seen_at.value_or(now));
          store::insert_event(db.sql(), now, "hibernate", w.id,
                              "an interrupted hibernation never sent its stop: back online", "{}");
        }
      }
    });
    auto sync = cloud::sync_workers(db, e, "", false);
    rep.accounts = sync.accounts;
    for (const auto& a : sync.accounts) {
      if (a.error) {
        failed.insert(a.name);
      }
    }
    rep.samples = db.write([&] {
      std::vector<std::pair<std::int64_t, store::UtilSample>> batch;
      for (const auto& w : store::list_workers(db.sql(), {"", "vast"})) {
        if (w.provider_ref && running_state(w.state) && !failed.count(w.account)) {
          batch.push_back({w.id, {now, w.gpu_util}});
        }
      }
      store::insert_samples(db.sql(), batch);
      // Samples are kept 24 h. Pruning an hour's worth at once (when the oldest is over 25 h
      // old) deletes contiguous pages of the time index, instead of touching them every minute.
      if (auto oldest = store::oldest_sample(db.sql()); oldest && *oldest < now - Seconds{25 * 3600}) {
        store::prune_samples(db.sql(), now - Seconds{24 * 3600});
      }
      return static_cast<int>(batch.size());
    });
  }
  std::set<std::int64_t> scheduled; // workers whose schedule acted this sweep
  const auto workers = store::list_workers(db.sql(), {"", "vast"});
  const auto schedules = store::schedules_all(db.sql());
  for (const auto& w : workers) {
    if (!w.enabled || (w.control == "plan" || w.control == "autoscale") || failed.count(w.account) || !w.provider_ref) {
      continue;
    }
    auto sit = schedules.find(w.id);
    if (sit == schedules.end()) {
      continue;
    }
    std::optional<store::ScheduleRow> row = sit->second;
    WakeSchedule s{row->wake_min, row->sleep_min, row->tz, static_cast<std::uint8_t>(row->days)};
    DisplayZone zone = DisplayZone::resolve(row->tz);
    Instant last = row->last_checked_at.value_or(now - e.cfg.get_duration("hibernate.sweep_interval"));
    Due d = due(s, zone, last, now);
    // A firing from before the worker got into its current state is stale (cron did not run for
    // a while): a wake time that passed while it was still up does not wake it once hibernated.
    auto hs = store::hibernation_of(db.sql(), w.id);
    if (d.wake && d.wake_at && hs.hibernated_at && *d.wake_at < *hs.hibernated_at) {
      d.wake = false;
    }
    if (d.sleep && d.sleep_at && hs.woke_at && *d.sleep_at < *hs.woke_at) {
      d.sleep = false;
    }
    bool retry = false; // a provider error: keep last_checked_at so the next sweep does it
    if (d.wake && (w.state == "hibernated" || w.state == "offline")) {
      std::string reason = fmt::format("wake time {} {} (schedule)", clock_text(*s.wake_min), row->tz);
      rep.actions.push_back({w.name, "wake", reason});
      scheduled.insert(w.id);
      if (!dry_run) {
        try {
          cloud::start_worker(db, e, w.name);
          db.write([&] {
            auto h = store::hibernation_of(db.sql(), w.id);
            h.woke_at = now;
            h.hibernated_at.reset();
            store::save_hibernation(db.sql(), h);
            store::insert_event(db.sql(), now, "woke", w.id, reason, "{}");
          });
        } catch (const Error& err) {
          rep.errors.push_back(fmt::format("{}: {}", w.name, err.what()));
          retry = err.kind() == ErrorKind::provider;
        }
      }
    } else if (d.sleep && running_state(w.state)) {
      std::string reason = fmt::format("sleep time {} {} (schedule)", clock_text(*s.sleep_min), row->tz);
      scheduled.insert(w.id);
      if (job_runs_on(db, w.id)) {
        reason += ": a gpuctl job runs there, so it stays up";
        rep.actions.push_back({w.name, "busy", reason});
        if (!dry_run) {
          db.write([&] { store::insert_event(db.sql(), now, "schedule", w.id, reason, "{}"); });
        }
      } else {
        rep.actions.push_back({w.name, "sleep", reason});
        if (!dry_run) {
          try {
            hibernate_worker(db, e, w.name, reason, json::array());
          } catch (const Error& err) {
            rep.errors.push_back(fmt::format("{}: {}", w.name, err.what()));
            retry = err.kind() == ErrorKind::provider;
          }
        }
      }
    }
    if (!dry_run && !retry) {
      db.write([&] {
        auto r = *row;
        r.last_checked_at = now;
        store::save_schedule(db.sql(), r);
      });
    }
  }
  // The judgement's inputs, one query each (not five per worker): the workers as the listing
  // left them, their rules and instants, open sessions, workers running a job, recent samples.
  const auto current = store::list_workers(db.sql(), {"", "vast"});
  const auto hib = store::hibernation_all(db.sql());
  std::map<std::int64_t, Instant> session_start;
  for (const auto& s : store::open_sessions(db.sql())) {
    if (s.worker_id) {
      session_start[*s.worker_id] = s.started_at;
    }
  }
  std::set<std::int64_t> busy;
  for (const auto& j : store::active_jobs(db.sql())) {
    if (j.worker_id) {
      busy.insert(*j.worker_id);
    }
  }
  std::map<std::int64_t, Rules> rules_of;
  Seconds window{0};
  for (const auto& w : current) {
    auto it = hib.find(w.id);
    Rules r = effective_rules(overrides_from_json_text(it != hib.end() ? it->second.config_json
                                                                        : std::string("{}")),
                              e.cfg);
    window = std::max(window, r.idle_for + 2 * r.sweep_interval);
    rules_of.emplace(w.id, r);
  }
  const auto recent = store::recent_samples(db.sql(), now - window);
  for (const auto& w : current) {
    // Plan workers follow their plan; a running autoscale worker belongs to Dask (the autoscaler
    // retires it), but a hibernated one still gets delete_after, like any other.
    if (!w.enabled || w.control == "plan" ||
        (w.control == "autoscale" && running_state(w.state)) || failed.count(w.account) ||
        !w.provider_ref || scheduled.count(w.id)) {
      continue;
    }
    auto hit = hib.find(w.id);
    const store::HibernationRow h = hit != hib.end() ? hit->second : store::HibernationRow{w.id};
    const Rules& rules = rules_of.at(w.id);
    if (!rules.enabled) {
      continue;
    }
    if (running_state(w.state)) {
      std::optional<Instant> started = h.woke_at;
      if (auto sit = session_start.find(w.id); sit != session_start.end()) {
        started = started ? std::max(*started, sit->second) : sit->second;
      }
      std::vector<store::UtilSample> samples;
      if (auto rit = recent.find(w.id); rit != recent.end()) {
        for (const auto& s : rit->second) {
          if (s.at >= now - rules.idle_for - 2 * rules.sweep_interval) {
            samples.push_back(s);
          }
        }
      }
      auto j = judge(samples, now, started, rules, busy.count(w.id) > 0);
      if (j.verdict == Verdict::hibernate) {
        rep.actions.push_back({w.name, "hibernate", j.reason});
        if (dry_run) {
          continue;
        }
        try {
          hibernate_worker(db, e, w.name, j.reason, samples_json(j.evidence));
        } catch (const Error& err) {
          rep.errors.push_back(fmt::format("{}: {}", w.name, err.what()));
        }
      } else if (j.verdict == Verdict::idle) {
        if (w.state != "idle") {
          rep.actions.push_back({w.name, "idle", j.reason});
          if (!dry_run) {
            db.write([&] {
              store::set_worker_state(db.sql(), w.id, "idle", w.last_seen_at.value_or(now));
              auto hh = store::hibernation_of(db.sql(), w.id);
              hh.idle_since = j.evidence.back().at;
              store::save_hibernation(db.sql(), hh);
              store::insert_event(db.sql(), now, "idle_detected", w.id, j.reason,
                                  json{{"samples", samples_json(j.evidence)}}.dump());
            });
          }
        }
      } else if (j.verdict == Verdict::busy && w.state == "idle") {
        rep.actions.push_back({w.name, "busy", j.reason});
        if (!dry_run) {
          db.write([&] {
            store::set_worker_state(db.sql(), w.id, "online", w.last_seen_at.value_or(now));
            auto hh = store::hibernation_of(db.sql(), w.id);
            hh.idle_since.reset();
            store::save_hibernation(db.sql(), hh);
          });
        }
      }
    } else if (w.state == "hibernated" && rules.delete_after && h.hibernated_at &&
               now - *h.hibernated_at >= *rules.delete_after) {
      std::string reason = fmt::format("hibernated for {} (delete_after {})",
                                       format_duration(now - *h.hibernated_at),
                                       format_duration(*rules.delete_after));
      rep.actions.push_back({w.name, "delete", reason});
      if (dry_run) {
        continue;
      }
      try {
        cloud::destroy_worker(db, e, w.name);
        db.write([&] {
          store::insert_event(db.sql(), now, "deleted", w.id, reason,
                              json{{"instance_id", w.provider_ref.value_or("")},
                                   {"spec_kept", true}}
                                  .dump());
        });
      } catch (const Error& err) {
        rep.errors.push_back(fmt::format("{}: {}", w.name, err.what()));
      }
    }
  }
  return rep;
}

store::WorkerRow
hibernate_now(store::Database& db, cloud::Env& e, const std::string& worker)
{
  return hibernate_worker(db, e, worker, "hibernate now (by hand)", json::array());
}

SweepLock::SweepLock(const std::string& db_path)
    : m_lock(db_path + ".sweep.lock", "another hibernate-sweep is running on this state file")
{
}

} // namespace gpuctl::hibernate
