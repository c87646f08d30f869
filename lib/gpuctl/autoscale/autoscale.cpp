// SPDX-License-Identifier: MIT
#include "gpuctl/autoscale/autoscale.hpp"

#include "gpuctl/autoscale/worker_command.hpp"
#include "gpuctl/core/error.hpp"
#include "gpuctl/core/names.hpp"
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

namespace {

bool
running_state(const std::string& s)
{
  return s == "online" || s == "idle" || s == "starting";
}

/// The numbers behind a step: what Dask said and, once decided, the decision.
json
numbers(const Demand& d, const Decision* dec)
{
  json j = {{"target", d.target}, {"unrunnable", d.unrunnable}, {"num_workers", d.num_workers}};
  if (dec) {
    j.update({{"others", dec->others},   {"joined", dec->joined}, {"booting", dec->booting},
              {"want", dec->want},       {"desired", dec->desired}});
  }
  return j;
}

/// The first free name dask-N (N ≥ 1).
std::string
next_worker_name(store::Database& db)
{
  std::set<std::string> taken;
  for (const auto& w : store::list_workers(db.sql())) {
    taken.insert(w.name);
  }
  for (int n = 1;; ++n) {
    std::string name = fmt::format("dask-{}", n);
    if (!taken.count(name)) {
      return name;
    }
  }
}

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
    // 2. What gpuctl runs.
    if (m_env.refresh && !m_env.dry_run && has_vast_account()) {
      auto sync = cloud::sync_workers(m_db, m_env.cloud, "", false);
      for (const auto& a : sync.accounts) {
        if (a.error) {
          m_rep.errors.push_back(fmt::format("listing of vast account {}: {}", a.name, *a.error));
        }
      }
    }
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
    auto st = store::autoscale_state(m_db.sql());
    m_rep.decision = decide(m_rep.demand, m_members, m_s.params, st.low_since, m_now);
    m_decided = true;
    const auto& dec = m_rep.decision;
    if (dec.unrunnable_unserved) {
      m_rep.warnings.push_back(fmt::format(
          "{} Dask tasks stay unrunnable although gpuctl's GPU workers are up: they need "
          "resources gpuctl's machines do not offer (e.g. GPU=2 or a worker restriction); "
          "nothing is started for them",
          m_rep.demand.unrunnable));
    }
    if (!m_env.dry_run) {
      m_db.write([&] {
        if (dec.low_since && !st.low_since) {
          store::insert_event(m_db.sql(), m_now, "autoscale.low", std::nullopt,
                              "demand below the workers gpuctl runs: " + dec.why,
                              numbers(m_rep.demand, &dec).dump());
        }
        store::save_autoscale_state(m_db.sql(), {dec.low_since, m_now});
      });
    }
    // 4. Act: scale down first (it frees nothing gpuctl would start), then timeouts, then up.
    if (!dec.retire.empty()) {
      retire(dec.retire);
    }
    for (const auto& w : dec.boot_timed_out) {
      release(w, "autoscale.boot-timeout",
              fmt::format("its Dask worker did not join within {}s of its start",
                          m_s.params.boot_timeout.count()));
    }
    for (int i = 0; i < dec.start; ++i) {
      if (!start_one()) {
        break;
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

  void step(const std::string& type, const store::WorkerRow* w, const std::string& reason,
            json detail = json::object())
  {
    m_rep.steps.push_back({type, w ? w->name : "", reason});
    if (m_env.dry_run) {
      return;
    }
    detail.update(numbers(m_rep.demand, m_decided ? &m_rep.decision : nullptr));
    m_db.write([&] {
      store::insert_event(m_db.sql(), m_now, type,
                          w ? std::optional<std::int64_t>(w->id) : std::nullopt, reason,
                          detail.dump());
    });
  }

  /// Members from the table, plus autoscale vast workers that run without a row (a rent that
  /// died before its row was written); rows of machines that stopped meanwhile are dropped.
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
        // Stopped or gone behind the autoscaler's back (by hand, or the instance vanished).
        if (!m_env.dry_run) {
          m_db.write([&] { store::delete_member(m_db.sql(), w.id); });
        }
        continue;
      }
      Member m;
      m.worker = w.name;
      m.booted_at = row.booted_at;
      auto d = m_in_dask.find(dask::dask_name(w.name));
      if (d != m_in_dask.end()) {
        m.joined = true;
        m.address = d->second;
        if (!row.joined_at || row.address != d->second) {
          bool first = !row.joined_at;
          row.joined_at = m_now;
          row.address = d->second;
          save(row);
          if (first) {
            step("autoscale.joined", &w,
                 fmt::format("its Dask worker joined as {} after {}s", d->second,
                             (m_now - row.booted_at).count()),
                 {{"address", d->second}});
          }
        }
      } else if (row.joined_at) {
        // It was in the cluster and left without being retired by us (crash, scheduler
        // restart): its retry loop starts it again; the boot timeout applies from now.
        step("autoscale.left", &w,
             fmt::format("its Dask worker {} left the cluster; waiting for it to join again",
                         row.address.value_or("?")));
        row.joined_at.reset();
        row.address.reset();
        row.booted_at = m_now;
        m.booted_at = m_now;
        save(row);
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
      m_rep.steps.push_back({"autoscale.retire", "", "would retire " + list});
      return;
    }
    std::set<std::string> retired;
    try {
      retired = m_client.retire(addresses);
    } catch (const net::CallError& e) {
      m_rep.errors.push_back(fmt::format("retire_workers {}: {}", list, e.what()));
      step("autoscale.retire-unknown", nullptr,
           "retire_workers " + list + " failed; nothing is hibernated, get_workers is read again "
           "next tick",
           {{"addresses", addresses}});
      return;
    }
    for (const auto& m : m_members) {
      if (std::find(addresses.begin(), addresses.end(), m.address) == addresses.end()) {
        continue;
      }
      const auto& w = m_workers.at(m.worker);
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
    const auto& w = m_workers.at(name);
    const auto row = m_rows.at(name);
    if (m_env.dry_run) {
      m_rep.steps.push_back({type, name, why});
      return;
    }
    try {
      if (w.provider == "vast") {
        hibernate::hibernate_worker(m_db, m_env.cloud, name, "autoscale: " + why, json::array());
      } else if (w.provider == "ssh" && row.job_key && m_env.ssh.stop) {
        m_env.ssh.stop(w, *row.job_key);
      }
    } catch (const Error& e) {
      if (e.kind() == ErrorKind::interrupted) {
        throw;
      }
      m_rep.errors.push_back(fmt::format("{}: {}", name, e.what()));
      return; // tried again next tick (a retired worker is no longer in Dask: a boot timeout)
    }
    m_db.write([&] {
      store::delete_member(m_db.sql(), w.id);
      if (w.provider == "ssh") {
        store::set_worker_control(m_db.sql(), w.id, row.prev_control);
      }
    });
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
    step("autoscale.hold", nullptr,
         fmt::format("no {} machine is free to start for Dask", m_s.pool));
    return false;
  }

  bool taken(const store::WorkerRow& w) const { return m_rows.count(w.name) > 0 || m_started.count(w.name) > 0; }

  bool wake_one()
  {
    for (const auto& [name, w] : m_workers) {
      if (w.provider != "vast" || w.control != "autoscale" || !w.enabled ||
          w.state != "hibernated" || taken(w)) {
        continue;
      }
      m_started.insert(name);
      if (m_env.dry_run) {
        m_rep.steps.push_back({"autoscale.start", name, "would wake it"});
        return true;
      }
      try {
        hibernate::WakeOptions o;
        auto res = hibernate::wake(m_db, m_env.cloud, name, o);
        add_member(res.worker, "woken");
        step("autoscale.start", &res.worker,
             res.rerented ? "woke it (its instance was gone: rented again)" : "woke it",
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
          busy.count(w.id) || taken(w)) {
        continue;
      }
      m_started.insert(name);
      if (m_env.dry_run) {
        m_rep.steps.push_back({"autoscale.start", name, "would start a Dask worker over ssh"});
        return true;
      }
      std::string key = fmt::format("dask-{}-{}", w.id, epoch_seconds(m_now));
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
      step("autoscale.start", &w, "started a Dask worker over ssh", {{"source", "ssh"}, {"job_key", key}});
      return true;
    }
    return false;
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
                             fmt::format("would rent a {} at most ${:.3f}/h", m_s.gpu,
                                         m_s.max_usd_per_hour)});
      return true;
    }
    auto account = cloud::pick_vast_account(m_db, m_s.account);
    if (!account) {
      throw_usage("autoscale needs a vast account to rent on: gpuctl account add NAME --provider "
                  "vast");
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
      step("autoscale.refused", nullptr,
           fmt::format("no {} offer at most ${:.3f}/h with {:.0f} GB of disk", m_s.gpu,
                       m_s.max_usd_per_hour, m_s.disk_gb));
      return false;
    }
    cloud::RentRequest r;
    r.offer_id = offers.front().id;
    r.worker = next_worker_name(m_db);
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
      step("autoscale.start", &res.worker,
           fmt::format("rented offer {} ({}, ${:.3f}/h) as instance {}", r.offer_id,
                       offers.front().gpu, res.price_usd_per_hour, res.instance_id),
           {{"source", "rent"}, {"offer_id", r.offer_id}, {"instance_id", res.instance_id},
            {"usd_per_hour", res.price_usd_per_hour}});
      return true;
    } catch (const Error& e) {
      if (e.kind() == ErrorKind::conflict) {
        step("autoscale.refused", nullptr, e.what()); // budget (max_usd_per_day), offer gone
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

  static std::int64_t epoch_seconds(Instant t)
  {
    return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
  }

  Env& m_env;
  store::Database& m_db;
  const Settings& m_s;
  Instant m_now;
  dask::Client m_client;
  Report m_rep;
  bool m_decided = false; ///< m_rep.decision holds this tick's decision
  std::map<std::string, std::string> m_in_dask; ///< dask name → address
  std::map<std::string, store::WorkerRow> m_workers;
  std::map<std::string, store::MemberRow> m_rows; ///< by worker name
  std::vector<Member> m_members;
  std::set<std::string> m_started; ///< started this tick
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
    throw_usage("no Dask scheduler: give --dask http://HOST:8787 or set [autoscale] dask_url");
  }
  config::check_base_url("--dask", s.dask_url);
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
