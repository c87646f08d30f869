// SPDX-License-Identifier: MIT
#include "gpuctl/sched/tick.hpp"

#include "gpuctl/core/error.hpp"
#include "gpuctl/core/failpoint.hpp"
#include "gpuctl/core/time.hpp"
#include "gpuctl/net/caller.hpp"
#include "gpuctl/quota/service.hpp"
#include "gpuctl/sched/select.hpp"
#include "gpuctl/sched/snapshot.hpp"
#include "gpuctl/store/jobs.hpp"
#include "gpuctl/store/provider_state.hpp"
#include "gpuctl/store/sessions.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <random>
#include <set>

namespace gpuctl::sched {

using json = nlohmann::json;

namespace {

/// Runs the tick's steps with shared state.
class Ticker {
public:
  Ticker(TickEnv& env, const TickOptions& opts) : m_env(env), m_opts(opts), m_now(env.clock.now()) {}

  TickReport run()
  {
    if (!m_opts.dry_run) {
      step("reconcile", [&] { reconcile(); });
      step("refresh", [&] { refresh(); });
      step("jobs", [&] { follow_jobs(); });
    }
    step("deadlines", [&] { deadlines(); });
    step("plan", [&] { plan_starts(); });
    step("dispatch", [&] { dispatch(); });
    return std::move(m_report);
  }

private:
  template <typename Fn>
  void step(const char*, Fn&& fn)
  {
    if (m_env.interrupted()) {
      m_report.interrupted = true;
      return;
    }
    fn();
  }

  store::Database& db() { return m_env.db; }

  Backend* backend(const std::string& provider)
  {
    auto it = m_env.backends.find(provider);
    return it == m_env.backends.end() ? nullptr : it->second;
  }

  void act(const std::string& type, const std::string& worker, std::optional<std::int64_t> job,
           const std::string& reason)
  {
    m_report.actions.push_back({m_now, type, worker, job, reason});
  }

  void error(const std::string& what) { m_report.errors.push_back(what); }

  /// Records an action as an event (inside the caller's transaction) and in the report.
  void event(const std::string& type, const store::WorkerRow* w, std::optional<std::int64_t> job,
             const std::string& reason, const json& detail = json::object())
  {
    if (job) {
      store::insert_job_event(db().sql(), m_now, type, *job,
                              w ? std::optional<std::int64_t>(w->id) : std::nullopt, reason,
                              detail.dump());
    } else {
      store::insert_event(db().sql(), m_now, type,
                          w ? std::optional<std::int64_t>(w->id) : std::nullopt, reason,
                          detail.dump());
    }
    act(type, w ? w->name : "", job, reason);
  }

  struct Loaded {
    store::JobRow job;
    JobSpec spec;
    store::WorkerRow worker;
    store::AccountRow account;
  };
  std::optional<Loaded> load(const store::JobRow& j)
  {
    if (!j.worker_id) {
      return std::nullopt;
    }
    auto w = find_worker_by_id(*j.worker_id);
    if (!w) {
      return std::nullopt;
    }
    auto a = store::find_account(db().sql(), w->account);
    if (!a) {
      return std::nullopt;
    }
    return Loaded{j, spec_from_json_text(j.spec_json), *w, *a};
  }

  std::optional<store::WorkerRow> find_worker_by_id(std::int64_t id)
  {
    for (auto& w : workers()) {
      if (w.id == id) {
        return w;
      }
    }
    return std::nullopt;
  }

  std::vector<store::WorkerRow>& workers()
  {
    if (!m_workers) {
      m_workers = store::list_workers(db().sql());
    }
    return *m_workers;
  }
  void invalidate_workers() { m_workers.reset(); }

  /// Ends a job's quota session (Kaggle) at `at`.
  void close_job_session(const store::JobRow& j, Instant at, const std::string& reason)
  {
    if (!j.session_id) {
      return;
    }
    if (auto s = store::open_session_of_worker(db().sql(), j.worker_id.value_or(0));
        s && s->id == *j.session_id) {
      store::close_session(db().sql(), s->id, std::max(at, s->started_at), reason);
    }
  }

  /// Puts a job back in the queue after a lost run the provider confirmed gone (or whose timeout
  /// passed), or fails it after max_attempts.
  void requeue_or_fail(store::JobRow j, const store::WorkerRow* w, const std::string& why)
  {
    close_job_session(j, m_now, "lost");
    json r = json::parse(j.result_json, nullptr, false);
    if (!r.is_object()) {
      r = json::object();
    }
    if (j.worker_id) {
      r["lost_on"].push_back(*j.worker_id);
    }
    j.result_json = r.dump();
    if (j.cancel_requested) {
      j.state = "cancelled";
      j.ended_at = m_now;
      store::update_job(db().sql(), j);
      event("job.cancelled", w, j.id, why);
      return;
    }
    if (j.attempts >= j.max_attempts) {
      j.state = "failed";
      j.ended_at = m_now;
      store::update_job(db().sql(), j);
      event("job.failed", w, j.id, fmt::format("{}; {} of {} attempts used", why, j.attempts,
                                               j.max_attempts));
      return;
    }
    j.state = "queued";
    j.worker_id.reset();
    j.worker_name.reset();
    j.session_id.reset();
    j.dispatch_key.reset();
    j.dispatched_at.reset();
    j.started_at.reset();
    store::update_job(db().sql(), j);
    event("job.requeued", w, j.id, why);
  }

  // ---- 1. dispatches whose outcome was never recorded ------------------------------------------

  void reconcile()
  {
    auto intents = store::open_job_intents(db().sql());
    for (const auto& in : intents) {
      if (m_env.interrupted()) {
        m_report.interrupted = true;
        return;
      }
      auto job = store::find_job(db().sql(), in.job_id);
      std::optional<Loaded> l = job ? load(*job) : std::nullopt;
      Backend* b = l ? backend(l->worker.provider) : nullptr;
      if (!job || !l || !b || job->dispatch_key != in.key) {
        db().write([&] {
          store::confirm_intent(db().sql(), in.id, m_now, json{{"outcome", "abandoned"}}.dump());
        });
        continue;
      }
      RunContext rc{l->job, l->spec, l->worker, l->account, in.key, job->timeout_s.value_or(0)};
      Observation o;
      try {
        o = b->observe(rc);
      } catch (const Error& e) {
        error(e.what());
        continue; // decided at a later tick, when the provider answers
      }
      db().write([&] {
        auto j = store::require_job(db().sql(), in.job_id);
        if (o.phase == Phase::absent) {
          store::confirm_intent(db().sql(), in.id, m_now, json{{"outcome", "not-started"}}.dump());
          if (j.session_id) {
            store::delete_session(db().sql(), *j.session_id);
          }
          j.session_id.reset();
          j.attempts = std::max(0, j.attempts - 1);
          j.state = j.cancel_requested ? "cancelled" : "queued";
          if (j.cancel_requested) {
            j.ended_at = m_now;
          }
          j.worker_id.reset();
          j.worker_name.reset();
          j.dispatch_key.reset();
          j.dispatched_at.reset();
          store::update_job(db().sql(), j);
          event(j.cancel_requested ? "job.cancelled" : "job.requeued", &l->worker, j.id,
                "an interrupted dispatch never reached the provider");
        } else {
          store::confirm_intent(db().sql(), in.id, m_now, json{{"outcome", "found"}}.dump());
          event("job.dispatch", &l->worker, j.id,
                "found at the provider after an interrupted dispatch");
        }
      });
    }
  }

  // ---- 2. worker health -------------------------------------------------------------------------

  void refresh()
  {
    std::map<std::string, std::vector<store::WorkerRow>> by_provider;
    for (const auto& w : workers()) {
      if (w.enabled && w.state != "deleted" && backend(w.provider)) {
        by_provider[w.provider].push_back(w);
      }
    }
    for (auto& [provider, ws] : by_provider) {
      if (m_env.interrupted()) {
        m_report.interrupted = true;
        return;
      }
      std::map<std::int64_t, Health> health;
      try {
        health = backend(provider)->refresh(ws);
      } catch (const Error& e) {
        error(e.what());
      }
      std::set<std::string> seen_errors;
      for (const auto& [id, h] : health) {
        if (!h.reached && !h.error.empty() && seen_errors.insert(h.error).second) {
          error(h.error); // once per distinct cause (one per account or host)
        }
      }
      db().write([&] {
        for (const auto& w : ws) {
          auto it = health.find(w.id);
          if (it == health.end() || !it->second.reached) {
            continue;
          }
          if (provider == "vast") {
            continue; // the listing recorded state, price and util itself
          }
          store::observe_worker(db().sql(), w.id,
                                {"online", std::nullopt, it->second.gpu_util, m_now});
          if (w.state != "online" && w.state != "idle") {
            event("worker.online", &w, std::nullopt, "answered the health check");
          }
        }
      });
    }
    invalidate_workers();
    // Heartbeat: a worker gpuctl can check and has not seen for heartbeat_timeout is offline.
    Seconds timeout = m_env.cfg.get_duration("scheduler.heartbeat_timeout");
    db().write([&] {
      for (const auto& w : workers()) {
        if (!backend(w.provider) || (w.state != "online" && w.state != "idle")) {
          continue;
        }
        if (!w.last_seen_at || *w.last_seen_at + timeout < m_now) {
          store::set_worker_state(db().sql(), w.id, "offline", w.last_seen_at.value_or(m_now));
          event("worker.offline", &w, std::nullopt,
                fmt::format("not seen for {}", w.last_seen_at ? format_duration(m_now - *w.last_seen_at)
                                                              : std::string("ever")));
        }
      }
    });
    invalidate_workers();
    db().write([&] {
      for (auto j : store::active_jobs(db().sql())) {
        if (j.state == "lost" || !j.worker_id) {
          continue;
        }
        auto w = find_worker_by_id(*j.worker_id);
        if (w && w->state != "offline" && w->state != "deleted") {
          continue;
        }
        j.state = "lost";
        store::update_job(db().sql(), j);
        event("job.lost", w ? &*w : nullptr, j.id,
              "its worker went offline; it is re-queued once the provider confirms the run gone "
              "or its timeout has passed");
      }
    });
  }

  // ---- 3. runs in progress ----------------------------------------------------------------------

  void follow_jobs()
  {
    auto open = store::open_job_intents(db().sql());
    std::set<std::int64_t> pending;
    for (const auto& in : open) {
      pending.insert(in.job_id);
    }
    for (const auto& job : store::active_jobs(db().sql())) {
      if (m_env.interrupted()) {
        m_report.interrupted = true;
        return;
      }
      if (pending.count(job.id) || !job.dispatch_key) {
        continue;
      }
      auto l = load(job);
      Backend* b = l ? backend(l->worker.provider) : nullptr;
      if (!l || !b) {
        db().write([&] { requeue_or_fail(job, nullptr, "its worker no longer exists"); });
        continue;
      }
      RunContext rc{l->job, l->spec, l->worker, l->account, *job.dispatch_key,
                    job.timeout_s.value_or(0)};
      if (job.cancel_requested && job.state != "lost") {
        try {
          b->stop(rc);
        } catch (const Error& e) {
          if (e.kind() != ErrorKind::conflict) {
            error(e.what());
          }
        }
      }
      Observation o;
      try {
        o = b->observe(rc);
      } catch (const Error& e) {
        error(e.what());
        std::int64_t run_limit = run_limit_s(job);
        if (job.state == "lost" && job.dispatched_at && run_limit > 0 &&
            *job.dispatched_at + Seconds{run_limit} + Seconds{300} < m_now) {
          db().write([&] {
            requeue_or_fail(store::require_job(db().sql(), job.id), &l->worker,
                            "the provider did not answer and the run's timeout has passed");
          });
        }
        continue;
      }
      switch (o.phase) {
      case Phase::queued:
      case Phase::running:
        if (job.state == "lost" || (job.state == "dispatched" && o.phase == Phase::running)) {
          db().write([&] {
            auto j = store::require_job(db().sql(), job.id);
            if (o.phase == Phase::running && !j.started_at) {
              j.started_at = m_now;
            }
            j.state = o.phase == Phase::running ? "running" : "dispatched";
            store::update_job(db().sql(), j);
            event(o.phase == Phase::running ? "job.running" : "job.dispatch", &l->worker, j.id,
                  job.state == "lost" ? "the provider reports the run alive again"
                                      : "the provider reports it running");
          });
        }
        break;
      case Phase::succeeded:
      case Phase::failed:
        finish(*l, *b, rc, o);
        break;
      case Phase::absent:
        db().write([&] {
          requeue_or_fail(store::require_job(db().sql(), job.id), &l->worker,
                          "the provider reports the run gone");
        });
        break;
      }
    }
  }

  void finish(const Loaded& l, Backend& b, const RunContext& rc, const Observation& o)
  {
    std::string dir = job_dir(l.job, l.spec, m_env.jobs_root);
    std::string collect_error;
    try {
      std::filesystem::create_directories(dir);
      b.collect(rc, dir);
    } catch (const std::exception& e) {
      collect_error = e.what();
      error(e.what());
    }
    db().write([&] {
      auto j = store::require_job(db().sql(), l.job.id);
      if (j.final()) {
        return; // another tick already recorded it (the lock makes this not happen)
      }
      bool ok = o.phase == Phase::succeeded;
      j.state = j.cancel_requested ? "cancelled" : ok ? "succeeded" : "failed";
      j.exit_code = o.exit_code ? o.exit_code : std::optional<int>(ok ? 0 : 1);
      j.ended_at = m_now;
      if (!j.started_at) {
        j.started_at = j.dispatched_at;
      }
      json r = json::parse(j.result_json, nullptr, false);
      if (!r.is_object()) {
        r = json::object();
      }
      r["output_dir"] = dir;
      if (!o.message.empty()) {
        r["failure_message"] = o.message;
      }
      if (!collect_error.empty()) {
        r["collect_error"] = collect_error;
      }
      j.result_json = r.dump();
      close_job_session(j, m_now, "job-ended");
      store::update_job(db().sql(), j);
      event("job." + j.state, &l.worker, j.id,
            ok ? "the run completed"
               : (o.message.empty() ? fmt::format("the run failed (exit {})", *j.exit_code)
                                    : "the run failed: " + o.message),
            json{{"output_dir", dir}});
    });
  }

  // ---- 4. deadlines -----------------------------------------------------------------------------

  void deadlines()
  {
    auto sessions = quota::open_session_deadlines(db(), m_env.cfg, m_now);
    for (const auto& [id, os] : sessions) {
      if (!os.deadline || !os.session.worker_id) {
        continue;
      }
      auto w = find_worker_by_id(*os.session.worker_id);
      if (!w) {
        continue;
      }
      Instant deadline = *os.deadline;
      if (m_now >= deadline) {
        if (w->provider == "vast") {
          if (m_opts.dry_run) {
            act("deadline.stop", w->name, std::nullopt, "auto-shutdown");
            continue;
          }
          if (!m_env.stop_instance) {
            continue;
          }
          bool pending = false;
          for (const auto& in : store::open_intents_of_worker(db().sql(), w->id)) {
            pending = pending || in.kind == "stop";
          }
          if (pending) {
            continue; // an earlier stop's outcome is settled from the next listing, not resent
          }
          try {
            m_env.stop_instance(w->name, "auto-shutdown");
            db().write([&] {
              event("deadline.stop", &*w, std::nullopt, "auto-shutdown",
                    json{{"session", id}, {"deadline", format_rfc3339(deadline)}});
            });
          } catch (const Error& e) {
            error(e.what());
          }
        } else if (w->provider == "colab" && !m_opts.dry_run) {
          bool first = db().write([&] {
            if (!store::record_session_warning(db().sql(), id, "past", m_now)) {
              return false;
            }
            event("deadline.past", &*w, std::nullopt,
                  "stop this Colab session now: its deadline has passed",
                  json{{"session", id}, {"deadline", format_rfc3339(deadline)}});
            return true;
          });
          if (first && m_env.notify) {
            m_env.notify(fmt::format("gpuctl: stop Colab session on {} now (deadline {})",
                                     w->name, format_rfc3339(deadline)));
          }
        }
        continue;
      }
      auto level = quota::warning_level(deadline, m_now);
      if (!level || *level == "past") {
        continue;
      }
      if (m_opts.dry_run) {
        act("deadline.warning", w->name, std::nullopt, *level);
        continue;
      }
      bool first = db().write([&] {
        if (!store::record_session_warning(db().sql(), id, *level, m_now)) {
          return false;
        }
        event("deadline.warning", &*w, std::nullopt,
              fmt::format("{} to the deadline ({})", *level, format_rfc3339(deadline)),
              json{{"session", id}, {"level", *level}, {"deadline", format_rfc3339(deadline)}});
        return true;
      });
      if (first && m_env.notify) {
        m_env.notify(fmt::format("gpuctl: {} left on {} (deadline {})", *level, w->name,
                                 format_rfc3339(deadline)));
      }
    }
    invalidate_workers();
  }

  // ---- 5. the active plan -----------------------------------------------------------------------

  void plan_starts()
  {
    auto slots = store::active_plan_slots_at(db().sql(), m_now);
    if (!slots) {
      return;
    }
    for (const auto& s : *slots) {
      auto w = find_worker_by_id(s.worker_id);
      if (!w || !w->enabled || w->control != "plan") {
        continue;
      }
      if (w->provider == "vast") {
        if (w->state == "online" || w->state == "starting" || w->state == "idle" ||
            store::open_session_of_worker(db().sql(), w->id) ||
            store::event_since(db().sql(), "plan.start", w->id, s.start)) {
          continue;
        }
        if (m_opts.dry_run) {
          act("plan.start", w->name, std::nullopt, "its planned slot has begun");
          continue;
        }
        if (!m_env.start_instance) {
          continue;
        }
        try {
          m_env.start_instance(w->name);
          db().write([&] {
            event("plan.start", &*w, std::nullopt, "its planned slot has begun",
                  json{{"slot_start", format_rfc3339(s.start)}, {"slot_end", format_rfc3339(s.end)}});
          });
        } catch (const Error& e) {
          error(e.what());
        }
      } else if (w->provider == "colab") {
        if (store::open_session_of_worker(db().sql(), w->id) ||
            store::event_since(db().sql(), "plan.reminder", w->id, s.start)) {
          continue;
        }
        std::string msg = fmt::format("start the Colab session on {} now (planned {} – {})",
                                      w->name, format_rfc3339(s.start), format_rfc3339(s.end));
        if (m_opts.dry_run) {
          act("plan.reminder", w->name, std::nullopt, msg);
          continue;
        }
        db().write([&] {
          event("plan.reminder", &*w, std::nullopt, msg,
                json{{"slot_start", format_rfc3339(s.start)}, {"slot_end", format_rfc3339(s.end)}});
        });
        if (m_env.notify) {
          m_env.notify("gpuctl: " + msg);
        }
      }
    }
  }

  // ---- 6. dispatch ------------------------------------------------------------------------------

  void dispatch()
  {
    auto queued = store::queued_jobs(db().sql());
    if (queued.empty()) {
      return;
    }
    invalidate_workers();
    auto& ws = workers();
    std::map<std::int64_t, AccountLoad> loads = account_loads(db(), m_env.cfg, m_now);
    std::vector<WorkerView> views = worker_views(db(), ws, m_now);
    std::set<std::string> providers;
    for (const auto& [p, b] : m_env.backends) {
      if (b) {
        providers.insert(p);
      }
    }
    std::vector<JobNeed> needs;
    needs.reserve(queued.size());
    std::map<std::int64_t, const store::JobRow*> by_id;
    std::map<std::int64_t, JobSpec> specs;
    for (const auto& j : queued) {
      by_id[j.id] = &j;
      JobSpec spec = spec_from_json_text(j.spec_json);
      needs.push_back(job_need(j, spec, providers));
      specs.emplace(j.id, std::move(spec));
    }
    Selection sel = select(needs, std::move(views), std::move(loads), m_now, false);
    std::map<std::int64_t, const store::WorkerRow*> worker_by_id;
    for (const auto& w : ws) {
      worker_by_id[w.id] = &w;
    }
    std::map<std::string, store::AccountRow> accounts;
    for (auto& a : store::list_accounts(db().sql())) {
      accounts.emplace(a.name, a);
    }
    for (const auto& as : sel.assignments) {
      if (m_env.interrupted()) {
        m_report.interrupted = true;
        return;
      }
      const store::WorkerRow& w = *worker_by_id.at(as.worker_id);
      if (m_opts.dry_run) {
        act("job.dispatch", w.name, as.job_id,
            fmt::format("projected share {:.0f}%", as.projected_share * 100));
        continue;
      }
      dispatch_one(*by_id.at(as.job_id), specs.at(as.job_id), w, accounts.at(w.account), as);
    }
  }

  void dispatch_one(const store::JobRow& queued, const JobSpec& spec, const store::WorkerRow& w,
                    const store::AccountRow& account, const Assignment& as)
  {
    Backend* b = backend(w.provider);
    std::string key = make_dispatch_key(queued.id, queued.attempts + 1);
    // Before the call: the intent, the job's new state and its quota session, in one transaction.
    auto job = db().write([&] {
      auto j = store::require_job(db().sql(), queued.id);
      if (j.state != "queued") {
        return std::optional<store::JobRow>{};
      }
      // The claim: in this same IMMEDIATE transaction the worker must still be up (a sweep that
      // claimed it for a stop made it "stopping").
      auto cur = store::find_worker(db().sql(), w.name);
      if (!cur || (cur->state != "online" && cur->state != "idle")) {
        return std::optional<store::JobRow>{};
      }
      j.state = "dispatched";
      j.attempts += 1;
      j.worker_id = w.id;
      j.worker_name = w.name;
      j.dispatch_key = key;
      j.dispatched_at = m_now;
      json r = json::parse(j.result_json, nullptr, false);
      if (!r.is_object()) {
        r = json::object();
      }
      r["run_timeout_s"] = as.timeout_s;
      j.result_json = r.dump();
      if (b->session_per_job()) {
        store::SessionRow s;
        s.worker_id = w.id;
        s.worker = w.name;
        s.account_id = w.account_id;
        s.account = w.account;
        s.started_at = m_now;
        s.price_usd_per_hour = w.price_usd_per_hour;
        j.session_id = store::insert_session(db().sql(), s);
      }
      store::update_job(db().sql(), j);
      store::set_worker_dispatched(db().sql(), w.id, m_now);
      store::JobIntent in;
      in.kind = "dispatch";
      in.job_id = j.id;
      in.worker_id = w.id;
      in.key = key;
      in.created_at = m_now;
      in.detail_json = json{{"timeout_s", as.timeout_s}}.dump();
      store::insert_job_intent(db().sql(), in);
      return std::optional<store::JobRow>{j};
    });
    if (!job) {
      return;
    }
    failpoint("dispatch-before-call");
    RunContext rc{*job, spec, w, account, key, as.timeout_s};
    json detail;
    try {
      detail = b->launch(rc);
    } catch (const Error& e) {
      error(e.what());
      const auto* ce = dynamic_cast<const net::CallError*>(&e);
      bool unknown = (ce && ce->maybe_delivered()) || e.kind() == ErrorKind::interrupted;
      if (unknown) {
        // The provider may have accepted it: the open intent makes the next tick look for the
        // run by its key instead of starting another.
        db().write([&] {
          event("job.dispatch-unknown", &w, job->id,
                "the provider's answer was lost; the next tick looks for the run by its key",
                json{{"key", key}});
        });
        return;
      }
      db().write([&] {
        auto j = store::require_job(db().sql(), job->id);
        for (const auto& in : store::open_job_intents(db().sql())) {
          if (in.job_id == j.id) {
            store::confirm_intent(db().sql(), in.id, m_now,
                                  json{{"outcome", "refused"}, {"error", e.what()}}.dump());
          }
        }
        if (j.session_id) {
          store::delete_session(db().sql(), *j.session_id);
        }
        j.session_id.reset();
        j.state = "queued";
        j.attempts -= 1;
        j.worker_id.reset();
        j.worker_name.reset();
        j.dispatch_key.reset();
        j.dispatched_at.reset();
        store::update_job(db().sql(), j);
        event("job.dispatch-refused", &w, j.id, e.what());
      });
      return;
    }
    failpoint("dispatch-after-call");
    db().write([&] {
      auto j = store::require_job(db().sql(), job->id);
      for (const auto& in : store::open_job_intents(db().sql())) {
        if (in.job_id == j.id) {
          store::confirm_intent(db().sql(), in.id, m_now, json{{"outcome", "started"}}.dump());
        }
      }
      json r = json::parse(j.result_json, nullptr, false);
      if (!r.is_object()) {
        r = json::object();
      }
      if (detail.is_object()) {
        for (auto it = detail.begin(); it != detail.end(); ++it) {
          r[it.key()] = it.value();
        }
      }
      j.result_json = r.dump();
      store::update_job(db().sql(), j);
      event("job.dispatch", &w, j.id,
            fmt::format("projected share {:.0f}%{}", as.projected_share * 100,
                        as.timeout_s > 0 ? fmt::format(", run limit {}",
                                                       format_duration(Seconds{as.timeout_s}))
                                         : std::string()),
            json{{"key", key}, {"timeout_s", as.timeout_s}});
    });
  }

  TickEnv& m_env;
  TickOptions m_opts;
  Instant m_now;
  TickReport m_report;
  std::optional<std::vector<store::WorkerRow>> m_workers;
};

} // namespace

TickReport
tick(TickEnv& env, const TickOptions& opts)
{
  return Ticker(env, opts).run();
}

TickLock::TickLock(const std::string& db_path)
    : m_lock(db_path + ".tick.lock", "another scheduler tick is running on this state file")
{
}

std::string
make_dispatch_key(std::int64_t id, int attempt)
{
  std::random_device rd;
  return fmt::format("j{}-a{}-{:06x}", id, attempt, rd() & 0xffffff);
}

} // namespace gpuctl::sched
