// SPDX-License-Identifier: MIT
#include "gpuctl/autoscale/autoscale.hpp"

#include "gpuctl/autoscale/worker_command.hpp"
#include "gpuctl/core/error.hpp"
#include "gpuctl/core/time.hpp"
#include "gpuctl/hibernate/sweep.hpp"
#include "gpuctl/providers/dask/client.hpp"
#include "gpuctl/store/autoscale.hpp"
#include "gpuctl/store/jobs.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>
#include <set>

namespace gpuctl::autoscale {

using json = nlohmann::json;
namespace dask = providers::dask;
using hibernate::running_state;

namespace {

/// The numbers behind a step: what Dask said, the limits, and, once decided, the decision.
json
numbers(const Demand& d, const Params& p, const Decision* dec)
{
  json j = {{"target", d.target},       {"unrunnable", d.unrunnable}, {"num_workers", d.num_workers},
            {"min", p.min},             {"max", p.max},               {"step_up", p.step_up},
            {"scale_down_after_s", p.scale_down_after.count()}};
  if (dec) {
    j.update({{"others", dec->others},   {"joined", dec->joined}, {"booting", dec->booting},
              {"want", dec->want},       {"desired", dec->desired}, {"start", dec->start}});
    j["low_since"] = dec->low_since ? json(format_rfc3339(*dec->low_since)) : json(nullptr);
  }
  return j;
}

/// "RTX_4090" as people write it ("RTX 4090"), for messages.
std::string
gpu_text(std::string g)
{
  std::replace(g.begin(), g.end(), '_', ' ');
  return g;
}

bool
loopback_address(const std::string& tcp)
{
  auto rest = tcp.substr(tcp.find("://") + 3);
  return rest.rfind("127.", 0) == 0 || rest.rfind("localhost:", 0) == 0 ||
         rest.rfind("[::1]:", 0) == 0;
}

/// After this many machines in a row never joined Dask, starting is held for k_hold.
constexpr int k_boot_failures_before_hold = 3;
constexpr Seconds k_hold{3600};

class Ticker {
public:
  Ticker(Env& env, const Settings& s)
      : m_env(env), m_db(env.db), m_s(s), m_now(env.cloud.clock.now()),
        m_client(env.cloud.caller, s.dask_url)
  {
  }

  Report run()
  {
    // 1. What Dask says. Any failure here ends the tick before anything changes.
    auto listed = m_client.get_workers();
    m_rep.demand.target = m_client.adaptive_target();
    m_rep.demand.unrunnable = m_client.counts().unrunnable;
    m_rep.demand.num_workers = listed.num_workers;
    for (const auto& w : listed.workers) {
      m_in_dask[w.name] = w.address;
    }
    if ((m_s.pool == "vast" || m_s.pool == "both") && loopback_address(scheduler())) {
      m_rep.warnings.push_back(fmt::format(
          "the scheduler address {} is loopback: rented vast.ai machines cannot reach it; set "
          "[autoscale] scheduler (or --scheduler) to an address they can reach",
          scheduler()));
    }
    // 2. What gpuctl runs.
    if (m_env.refresh && !m_env.dry_run && needs_vast_listing()) {
      auto sync = cloud::sync_workers(m_db, m_env.cloud, "", false);
      for (const auto& a : sync.accounts) {
        if (a.error) {
          m_rep.errors.push_back(fmt::format("listing of vast account {}: {}", a.name, *a.error));
        }
      }
    }
    m_state = store::autoscale_state(m_db.sql());
    load_members();
    std::optional<std::map<std::string, dask::Activity>> activity;
    if (std::any_of(m_members.begin(), m_members.end(), [](const Member& m) { return m.joined; })) {
      activity = m_client.activity();
      if (!activity) {
        m_rep.warnings.push_back("Dask's /json/identity.json answered 500: no worker is judged "
                                 "idle this tick, so none is retired");
      }
    }
    for (auto& m : m_members) {
      if (m.joined && activity) {
        auto it = activity->find(m.address);
        m.idle = it != activity->end() && it->second.idle;
      }
    }
    // 3. Decide.
    const bool was_low = m_state.low_since.has_value();
    m_rep.decision = decide(m_rep.demand, m_members, m_s.params, m_state.low_since, m_now);
    m_decided = true;
    const auto& dec = m_rep.decision;
    if (dec.unrunnable_unserved) {
      m_rep.warnings.push_back(fmt::format(
          "{} Dask tasks stay unrunnable although gpuctl's GPU workers are up: they need "
          "resources gpuctl's machines do not offer (e.g. GPU=2 or a worker restriction); "
          "nothing is started for them",
          m_rep.demand.unrunnable));
    }
    m_state.low_since = dec.low_since;
    m_state.last_tick_at = m_now;
    if (dec.low_since && !was_low) {
      event("autoscale.low", nullptr, "demand below the workers gpuctl runs: " + dec.why);
    }
    save_state();
    // 4. Act: what Dask already retired, scale down, timeouts, then up.
    for (const auto& name : m_retired_late) {
      release(name,
              m_workers.at(name).provider == "vast" ? "autoscale.hibernate" : "autoscale.release",
              "Dask no longer lists it after a retire whose answer was lost: it was retired");
    }
    if (!dec.retire.empty()) {
      retire(dec.retire);
    }
    for (const auto& w : dec.boot_timed_out) {
      const bool rejoin = m_rows.count(w) && m_rows.at(w).address.has_value();
      release(w, "autoscale.boot-timeout",
              rejoin ? fmt::format("its Dask worker left and did not come back within {}s",
                                   m_s.params.rejoin_timeout.count())
                     : fmt::format("its Dask worker did not join within {}s of its start",
                                   m_s.params.boot_timeout.count()));
      if (!rejoin && !m_env.dry_run) {
        ++m_state.boot_failures;
      }
    }
    if (m_state.boot_failures >= k_boot_failures_before_hold) {
      m_state.boot_failures = 0;
      m_state.hold_until = m_now + k_hold;
      std::string why = fmt::format(
          "{} machines in a row never joined Dask: is {} reachable from them? Nothing is started "
          "until {}",
          k_boot_failures_before_hold, scheduler(), format_rfc3339(*m_state.hold_until));
      m_rep.warnings.push_back(why);
      event("autoscale.hold", nullptr, why);
    }
    save_state();
    if (dec.start > 0 && m_state.hold_until && m_now < *m_state.hold_until) {
      refuse("autoscale.hold", fmt::format("starting is held until {} (machines did not join Dask)",
                                           format_rfc3339(*m_state.hold_until)));
    } else {
      for (int i = 0; i < dec.start; ++i) {
        if (!start_one()) {
          break;
        }
      }
    }
    return std::move(m_rep);
  }

private:
  bool has_vast_account()
  {
    for (const auto& a : store::list_accounts(m_db.sql())) {
      if (a.provider == "vast") {
        return true;
      }
    }
    return false;
  }

  /// Whether this tick lists the vast.ai instances: when the pool may rent or wake them, or a
  /// machine started earlier (before a switch to --pool ssh) is a vast one still to follow.
  bool needs_vast_listing()
  {
    if (!has_vast_account()) {
      return false;
    }
    if (m_s.pool != "ssh") {
      return true;
    }
    auto members = store::list_members(m_db.sql());
    return std::any_of(members.begin(), members.end(),
                       [](const store::MemberRow& m) { return m.source != "ssh"; });
  }

  void save_state()
  {
    if (!m_env.dry_run) {
      m_db.write([&] { store::save_autoscale_state(m_db.sql(), m_state); });
    }
  }

  /// Records an event (not with dry_run).
  void event(const std::string& type, const store::WorkerRow* w, const std::string& reason,
             json detail = json::object())
  {
    if (m_env.dry_run) {
      return;
    }
    detail.update(numbers(m_rep.demand, m_s.params, m_decided ? &m_rep.decision : nullptr));
    m_db.write([&] {
      store::insert_event(m_db.sql(), m_now, type,
                          w ? std::optional<std::int64_t>(w->id) : std::nullopt, reason,
                          detail.dump());
    });
  }

  /// A step of the report, recorded as an event.
  void step(const std::string& type, const store::WorkerRow* w, const std::string& reason,
            json detail = json::object())
  {
    m_rep.steps.push_back({type, w ? w->name : "", reason});
    event(type, w, reason, std::move(detail));
  }

  /// A refusal to start: a step every tick, an event only when it differs from the last one (a
  /// cron line would otherwise write the same refusal 1,440 times a day).
  void refuse(const std::string& type, const std::string& reason)
  {
    m_rep.steps.push_back({type, "", reason});
    if (m_state.last_refusal != reason) {
      m_state.last_refusal = reason;
      event(type, nullptr, reason);
      save_state();
    }
  }

  void started(const store::WorkerRow& w, const std::string& reason, json detail)
  {
    step("autoscale.start", &w, reason, std::move(detail));
    if (!m_state.last_refusal.empty()) {
      m_state.last_refusal.clear();
      save_state();
    }
  }

  /// Members from the table, plus autoscale vast workers that run without a row (a rent that
  /// died before its row was written). A member stopped outside the autoscaler is handed back
  /// to manual control; one retired by a call whose answer was lost is settled.
  void load_members()
  {
    std::map<std::int64_t, store::MemberRow> rows;
    for (auto& r : store::list_members(m_db.sql())) {
      rows[r.worker_id] = r;
    }
    for (auto& w : store::list_workers(m_db.sql())) {
      m_workers[w.name] = w;
      auto it = rows.find(w.id);
      if (it == rows.end()) {
        if (w.control == "autoscale" && w.provider == "vast" && running_state(w.state)) {
          store::MemberRow r;
          r.worker_id = w.id;
          r.source = "rented";
          r.prev_control = "autoscale";
          r.booted_at = m_now;
          save(r);
          it = rows.emplace(w.id, r).first;
        } else {
          continue;
        }
      }
      auto& row = it->second;
      if (w.provider == "vast" && !running_state(w.state)) {
        // Stopped behind the autoscaler's back (worker stop, hibernate now, instance gone): the
        // person who did it decides from now on.
        if (!m_env.dry_run) {
          m_db.write([&] {
            store::delete_member(m_db.sql(), w.id);
            if (w.state != "deleted") {
              store::set_worker_control(m_db.sql(), w.id, "manual");
            }
          });
          m_workers[w.name].control = "manual";
        }
        step("autoscale.release", &w,
             fmt::format("it was {} outside the autoscaler: handed back to manual control",
                         w.state == "deleted" ? "destroyed" : w.state));
        continue;
      }
      Member m;
      m.worker = w.name;
      m.booted_at = row.booted_at;
      auto d = m_in_dask.find(dask::dask_name(w.name));
      if (d != m_in_dask.end()) {
        m.joined = true;
        m.address = d->second;
        if (!row.joined_at || row.address != d->second || row.retire_asked_at) {
          bool first = !row.joined_at;
          row.joined_at = m_now;
          row.address = d->second;
          row.retire_asked_at.reset(); // still listed: that retire did not happen
          save(row);
          if (first) {
            if (m_state.boot_failures != 0) {
              m_state.boot_failures = 0;
              save_state();
            }
            step("autoscale.joined", &w,
                 fmt::format("its Dask worker joined as {} after {}s", d->second,
                             (m_now - row.booted_at).count()),
                 {{"address", d->second}});
          }
        }
      } else if (row.retire_asked_at) {
        m_rows[w.name] = row;
        m_retired_late.push_back(w.name); // gone after a retire: Dask did retire it
        continue;
      } else if (row.joined_at) {
        // It was in the cluster and left without being retired by us (a crash: its retry loop
        // starts it again; the scheduler restarted: the loop has ended). rejoin_timeout applies.
        step("autoscale.left", &w,
             fmt::format("its Dask worker {} left the cluster; it has {}s to come back before "
                         "its machine is stopped",
                         row.address.value_or("?"), m_s.params.rejoin_timeout.count()));
        row.joined_at.reset();
        row.booted_at = m_now;
        m.booted_at = m_now;
        m.rejoining = true;
        save(row);
      } else {
        m.rejoining = row.address.has_value();
      }
      m_rows[w.name] = row;
      m_members.push_back(m);
    }
  }

  void save(const store::MemberRow& r)
  {
    if (!m_env.dry_run) {
      m_db.write([&] { store::save_member(m_db.sql(), r); });
    }
  }

  void retire(const std::vector<std::string>& addresses)
  {
    std::string list;
    for (const auto& a : addresses) {
      list += (list.empty() ? "" : " ") + a;
    }
    if (m_env.dry_run) {
      m_rep.steps.push_back({"autoscale.retire", "", "retire " + list});
      return;
    }
    std::set<std::string> retired;
    try {
      retired = m_client.retire(addresses);
    } catch (const net::CallError& e) {
      m_rep.errors.push_back(fmt::format("retire_workers {}: {}", list, e.what()));
      for (const auto& m : m_members) {
        if (std::find(addresses.begin(), addresses.end(), m.address) != addresses.end()) {
          auto& row = m_rows.at(m.worker);
          row.retire_asked_at = m_now;
          save(row);
        }
      }
      step("autoscale.retire-unknown", nullptr,
           "retire_workers " + list +
               " failed; nothing is hibernated now, the next get_workers settles it (gone = "
               "retired)",
           {{"addresses", addresses}});
      return;
    }
    for (const auto& m : m_members) {
      if (std::find(addresses.begin(), addresses.end(), m.address) == addresses.end()) {
        continue;
      }
      const auto w = m_workers.at(m.worker);
      if (retired.count(m.address)) {
        step("autoscale.retire", &w,
             fmt::format("Dask retired {} after {}s of low demand ({})", m.address,
                         (m_now - *m_rep.decision.low_since).count(), m_rep.decision.why),
             {{"address", m.address}});
        release(m.worker, w.provider == "vast" ? "autoscale.hibernate" : "autoscale.release",
                "Dask confirmed it retired " + m.address);
      } else {
        step("autoscale.retire-refused", &w,
             fmt::format("Dask did not retire {} (it may hold the only copy of some result); "
                         "it keeps running",
                         m.address),
             {{"address", m.address}});
      }
    }
  }

  /// Takes a machine out of the autoscaler: a vast worker is hibernated (stopped, disk kept),
  /// an ssh box gets its Dask worker stopped and goes back to whoever controlled it before.
  void release(const std::string& name, const std::string& type, const std::string& why)
  {
    const auto w = m_workers.at(name);
    const auto row = m_rows.at(name);
    m_started.insert(name); // not started again in this tick
    if (m_env.dry_run) {
      m_rep.steps.push_back({type, name, why});
      return;
    }
    try {
      if (w.provider == "vast") {
        m_workers[name] = hibernate::hibernate_worker(m_db, m_env.cloud, name, "autoscale: " + why,
                                                      json::array());
      } else if (w.provider == "ssh" && row.job_key && m_env.ssh.stop) {
        m_env.ssh.stop(w, *row.job_key);
      }
    } catch (const Error& e) {
      if (e.kind() == ErrorKind::interrupted) {
        throw;
      }
      m_rep.errors.push_back(fmt::format("{}: {}", name, e.what()));
      return; // tried again next tick
    }
    m_db.write([&] {
      store::delete_member(m_db.sql(), w.id);
      if (w.provider == "ssh") {
        store::set_worker_control(m_db.sql(), w.id, row.prev_control);
      }
    });
    m_rows.erase(name);
    step(type, &w, why);
  }

  /// Starts one machine: wake, then ssh, then rent, as the pool allows. False when nothing
  /// could be started (the reason is a step or an error).
  bool start_one()
  {
    const bool vast = m_s.pool == "vast" || m_s.pool == "both";
    const bool ssh = m_s.pool == "ssh" || m_s.pool == "both";
    if (vast && wake_one()) {
      return true;
    }
    if (ssh && m_env.ssh.start && borrow_ssh()) {
      return true;
    }
    if (vast) {
      return rent_one();
    }
    refuse("autoscale.hold", "no idle ssh worker to start a Dask worker on");
    return false;
  }

  bool taken(const store::WorkerRow& w) const
  {
    return m_rows.count(w.name) > 0 || m_started.count(w.name) > 0;
  }

  bool wake_one()
  {
    for (const auto& [name, w] : m_workers) {
      if (w.provider != "vast" || w.control != "autoscale" || !w.enabled ||
          w.state != "hibernated" || taken(w)) {
        continue;
      }
      m_started.insert(name);
      if (m_env.dry_run) {
        m_rep.steps.push_back({"autoscale.start", name, "wake it"});
        return true;
      }
      try {
        hibernate::WakeOptions o;
        auto res = hibernate::wake(m_db, m_env.cloud, name, o);
        add_member(res.worker, "woken");
        started(res.worker, res.rerented ? "woke it (its instance was gone: rented again)" : "woke it",
                {{"source", "wake"}});
        return true;
      } catch (const Error& e) {
        if (e.kind() == ErrorKind::interrupted) {
          throw;
        }
        m_rep.errors.push_back(fmt::format("wake {}: {}", name, e.what()));
      }
    }
    return false;
  }

  bool borrow_ssh()
  {
    std::set<std::int64_t> busy;
    for (const auto& j : store::active_jobs(m_db.sql())) {
      if (j.worker_id) {
        busy.insert(*j.worker_id);
      }
    }
    for (const auto& [name, w] : m_workers) {
      if (w.provider != "ssh" || w.control == "plan" || !w.enabled || w.state != "online" ||
          busy.count(w.id) || taken(w) || m_in_dask.count(dask::dask_name(name))) {
        continue;
      }
      m_started.insert(name);
      if (m_env.dry_run) {
        m_rep.steps.push_back({"autoscale.start", name, "start a Dask worker over ssh"});
        return true;
      }
      std::string key = fmt::format("dask-{}-{}", w.id, m_now.time_since_epoch().count());
      store::MemberRow r;
      r.worker_id = w.id;
      r.source = "ssh";
      r.prev_control = w.control == "autoscale" ? "manual" : w.control;
      r.booted_at = m_now;
      r.job_key = key;
      m_db.write([&] {
        store::save_member(m_db.sql(), r);
        store::set_worker_control(m_db.sql(), w.id, "autoscale");
      });
      m_rows[name] = r;
      try {
        m_env.ssh.start(w, key, ssh_script(scheduler(), name, w.gpu_count));
      } catch (const Error& e) {
        if (e.kind() == ErrorKind::interrupted) {
          throw;
        }
        m_db.write([&] {
          store::delete_member(m_db.sql(), w.id);
          store::set_worker_control(m_db.sql(), w.id, r.prev_control);
        });
        m_rows.erase(name);
        m_rep.errors.push_back(fmt::format("ssh {}: {}", name, e.what()));
        continue;
      }
      started(w, "started a Dask worker over ssh", {{"source", "ssh"}, {"job_key", key}});
      return true;
    }
    return false;
  }

  /// The first name dask-N (N ≥ 1) that is neither a gpuctl worker nor a Dask worker's name
  /// (gpuctl-dask-N may be listed by another state file, or by a machine gpuctl forgot).
  std::string next_worker_name() const
  {
    for (int n = 1;; ++n) {
      std::string name = fmt::format("dask-{}", n);
      if (!m_workers.count(name) && !m_in_dask.count(dask::dask_name(name))) {
        return name;
      }
    }
  }

  bool rent_one()
  {
    providers::vast::OfferQuery q;
    q.gpu = m_s.gpu;
    q.num_gpus = 1;
    q.max_price = m_s.max_usd_per_hour;
    q.disk_gb = m_s.disk_gb;
    q.order = "price";
    q.limit = 5;
    if (m_env.dry_run) {
      m_rep.steps.push_back({"autoscale.start", "",
                             fmt::format("rent a {} at most ${:.3f}/h", gpu_text(m_s.gpu),
                                         m_s.max_usd_per_hour)});
      return true;
    }
    std::optional<store::AccountRow> account;
    try {
      account = cloud::pick_vast_account(m_db, m_s.account);
    } catch (const Error& e) {
      if (e.kind() != ErrorKind::usage) {
        throw;
      }
      m_rep.errors.push_back(e.what()); // several vast accounts and none named, or no such one
      refuse("autoscale.refused", e.what());
      return false;
    }
    if (!account) {
      std::string why = "no vast account to rent on: gpuctl account add NAME --provider vast";
      m_rep.errors.push_back(why);
      refuse("autoscale.refused", why);
      return false;
    }
    std::vector<providers::vast::Offer> offers;
    try {
      offers = cloud::search_offers(m_db, m_env.cloud, account->name, q);
    } catch (const Error& e) {
      if (e.kind() != ErrorKind::provider) {
        throw;
      }
      m_rep.errors.push_back(fmt::format("offers search: {}", e.what()));
      return false;
    }
    if (offers.empty()) {
      refuse("autoscale.refused",
             fmt::format("no {} offer at most ${:.3f}/h with {:.0f} GB of disk", gpu_text(m_s.gpu),
                         m_s.max_usd_per_hour, m_s.disk_gb));
      return false;
    }
    cloud::RentRequest r;
    r.offer_id = offers.front().id;
    r.worker = next_worker_name();
    r.account = account->name;
    r.image = m_s.image;
    r.disk_gb = m_s.disk_gb;
    r.onstart = vast_onstart(scheduler(), r.worker, std::max(1, offers.front().num_gpus));
    r.env = {{k_identity_port_env, "1"}};
    r.max_price = m_s.max_usd_per_hour;
    r.control = "autoscale";
    try {
      auto res = cloud::rent(m_db, m_env.cloud, r);
      m_started.insert(r.worker);
      add_member(res.worker, "rented");
      started(res.worker,
              fmt::format("rented offer {} ({}, ${:.3f}/h) as instance {}", r.offer_id,
                          offers.front().gpu, res.price_usd_per_hour, res.instance_id),
              {{"source", "rent"}, {"offer_id", r.offer_id}, {"instance_id", res.instance_id},
               {"usd_per_hour", res.price_usd_per_hour}});
      return true;
    } catch (const Error& e) {
      if (e.kind() == ErrorKind::conflict) {
        refuse("autoscale.refused", e.what()); // budget (max_usd_per_day), offer gone
        return false;
      }
      if (e.kind() != ErrorKind::provider) {
        throw;
      }
      m_rep.errors.push_back(fmt::format("rent: {}", e.what()));
      return false;
    }
  }

  void add_member(const store::WorkerRow& w, const std::string& source)
  {
    store::MemberRow r;
    r.worker_id = w.id;
    r.source = source;
    r.prev_control = "autoscale";
    r.booted_at = m_now;
    m_db.write([&] { store::save_member(m_db.sql(), r); });
    m_rows[w.name] = r;
    m_workers[w.name] = w;
  }

  std::string scheduler() const
  {
    return m_s.scheduler.empty() ? default_scheduler(m_s.dask_url) : m_s.scheduler;
  }

  Env& m_env;
  store::Database& m_db;
  const Settings& m_s;
  Instant m_now;
  dask::Client m_client;
  Report m_rep;
  bool m_decided = false; ///< m_rep.decision holds this tick's decision
  store::AutoscaleState m_state;
  std::map<std::string, std::string> m_in_dask; ///< dask name → address
  std::map<std::string, store::WorkerRow> m_workers;
  std::map<std::string, store::MemberRow> m_rows; ///< by worker name
  std::vector<Member> m_members;
  std::vector<std::string> m_retired_late; ///< gone from Dask after a retire with a lost answer
  std::set<std::string> m_started;         ///< started (or released) this tick
};

} // namespace

Settings
settings_from(const config::Config& cfg)
{
  Settings s;
  s.dask_url = cfg.get_string("autoscale.dask_url");
  s.scheduler = cfg.get_string("autoscale.scheduler");
  s.params.min = static_cast<int>(cfg.get_int("autoscale.min"));
  s.params.max = static_cast<int>(cfg.get_int("autoscale.max"));
  s.params.step_up = static_cast<int>(cfg.get_int("autoscale.step_up"));
  s.params.scale_down_after = cfg.get_duration("autoscale.scale_down_after");
  s.params.boot_timeout = cfg.get_duration("autoscale.boot_timeout");
  s.pool = cfg.get_string("autoscale.pool");
  s.account = cfg.get_string("autoscale.account");
  s.gpu = cfg.get_string("autoscale.gpu");
  s.max_usd_per_hour = cfg.get_number("autoscale.max_usd_per_hour");
  s.image = cfg.get_string("autoscale.image");
  s.disk_gb = static_cast<double>(cfg.get_int("autoscale.disk_gb"));
  return s;
}

std::string
default_scheduler(const std::string& dask_url)
{
  auto rest = dask_url.substr(dask_url.find("://") == std::string::npos ? 0 : dask_url.find("://") + 3);
  auto end = rest.find_first_of("/?#");
  std::string hostport = rest.substr(0, end);
  std::string host = hostport;
  if (host.starts_with("[")) {
    host = host.substr(0, host.find(']') + 1);
  } else if (auto colon = host.rfind(':'); colon != std::string::npos) {
    host = host.substr(0, colon);
  }
  return "tcp://" + host + ":8786";
}

void
validate(Settings& s)
{
  if (s.dask_url.empty()) {
    throw_usage("no Dask scheduler: set [autoscale] dask_url (or give gpuctl autoscale --dask "
                "http://HOST:8787)");
  }
  config::check_base_url("--dask", s.dask_url);
  if (s.dask_url.find_first_of("?#") != std::string::npos) {
    throw_usage("invalid --dask '{}': the scheduler's HTTP address takes no query or fragment "
                "(a --dashboard-prefix goes in the path: http://HOST:8787/PREFIX)",
                s.dask_url);
  }
  if (s.scheduler.empty()) {
    s.scheduler = default_scheduler(s.dask_url);
  }
  validate_scheduler_address(s.scheduler);
  if (s.pool != "vast" && s.pool != "ssh" && s.pool != "both") {
    throw_usage("invalid --pool '{}': expected vast, ssh or both", s.pool);
  }
  if (s.params.min < 0 || s.params.max < 0) {
    throw_usage("--min and --max must not be negative");
  }
  if (s.params.min > s.params.max) {
    throw_usage("--min {} exceeds --max {}", s.params.min, s.params.max);
  }
  if (s.params.step_up < 1) {
    throw_usage("--step-up must be at least 1");
  }
  if (!(s.max_usd_per_hour > 0)) {
    throw_usage("[autoscale] max_usd_per_hour must be above 0");
  }
}

Report
tick(Env& env, const Settings& s)
{
  Ticker t(env, s);
  return t.run();
}

} // namespace gpuctl::autoscale
