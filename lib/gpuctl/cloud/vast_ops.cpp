// SPDX-License-Identifier: MIT
// vast.ai operations: search, rent (exactly once), sync, start/stop/destroy.
#include "gpuctl/cloud/cloud.hpp"

#include "gpuctl/core/error.hpp"
#include "gpuctl/core/failpoint.hpp"
#include "gpuctl/core/names.hpp"
#include "gpuctl/quota/service.hpp"
#include "gpuctl/store/hibernation.hpp"
#include "gpuctl/store/provider_state.hpp"
#include "gpuctl/store/sessions.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <set>

namespace gpuctl::cloud {

using nlohmann::json;
namespace vast = providers::vast;

namespace {

/// Opens a session on `w` at `at` at `price` $/h (the caller holds the transaction).
void
open_session_at(store::Database& db, const store::WorkerRow& w, Instant at,
                std::optional<double> price)
{
  store::SessionRow s;
  s.worker_id = w.id;
  s.worker = w.name;
  s.account_id = w.account_id;
  s.started_at = at;
  s.price_usd_per_hour = price;
  store::insert_session(db.sql(), s);
}

std::string
spec_text(const RentRequest& r, const vast::Offer& offer, double max_usd)
{
  json spec = {{"offer_id", r.offer_id},
               {"gpu", offer.gpu},
               {"num_gpus", offer.num_gpus},
               {"region", offer.region},
               {"reliability", offer.reliability ? json(*offer.reliability) : json(nullptr)},
               {"image", r.image},
               {"disk_gb", r.disk_gb},
               {"onstart", r.onstart},
               {"env", r.env},
               {"max_usd_per_hour", max_usd},
               {"generation", 1}};
  return spec.dump();
}

vast::InstanceSpec
instance_spec(const store::WorkerRow& w)
{
  json spec = json::parse(w.spec_json, nullptr, false);
  vast::InstanceSpec s;
  if (!spec.is_object()) {
    return s;
  }
  s.image = spec.value("image", "");
  s.disk_gb = spec.value("disk_gb", 16.0);
  s.onstart = spec.value("onstart", "");
  if (spec.contains("env") && spec["env"].is_object()) {
    for (auto& [k, v] : spec["env"].items()) {
      if (v.is_string()) {
        s.env[k] = v.get<std::string>();
      }
    }
  }
  s.label = vast::instance_label(w.id, spec.value("generation", 1));
  return s;
}

/// The instance carrying `label`, from a listing filtered on it.
std::optional<vast::Instance>
find_by_label(vast::Client& c, const std::string& label)
{
  auto listing = c.list_instances(json{{"label", {{"eq", label}}}});
  for (auto& i : listing.instances) {
    if (i.label == label) {
      return i;
    }
  }
  return std::nullopt;
}

/// Records the instance of a rent and opens its session (one transaction).
store::WorkerRow
register_rented(store::Database& db, Env& e, const store::WorkerRow& w, std::int64_t intent_id,
                std::int64_t instance_id, double price)
{
  Instant now = e.clock.now();
  return db.write([&] {
    store::set_worker_instance(db.sql(), w.id, std::to_string(instance_id));
    store::observe_worker(db.sql(), w.id, {"starting", price, std::nullopt, now});
    store::confirm_intent(db.sql(), intent_id, now, json{{"instance_id", instance_id}}.dump());
    if (!store::open_session_of_worker(db.sql(), w.id)) {
      open_session_at(db, w, now, price);
    }
    store::insert_event(db.sql(), now, "rent", w.id, "offers rent",
                        json{{"instance_id", instance_id}, {"price_usd_per_hour", price}}.dump());
    return store::require_worker(db.sql(), w.name);
  });
}

/// Completes an interrupted rent: finds the instance its label names, else creates it.
RentResult
finish_rent(store::Database& db, Env& e, vast::Client& c, const store::WorkerRow& w,
            const store::IntentRow& intent, std::int64_t offer_id, double price, bool resuming)
{
  const vast::InstanceSpec spec = instance_spec(w);
  RentResult out;
  out.price_usd_per_hour = price;
  // Only a resumed rent looks for its label first: a fresh one has sent nothing yet, and an
  // instance with that label would be another state file's (labels are unique per state file).
  std::optional<vast::Instance> found;
  if (resuming) {
    found = find_by_label(c, intent.key);
  }
  if (found) {
    out.instance_id = found->id;
    out.resumed = true;
  } else {
    std::int64_t id = 0;
    try {
      id = c.create_instance(offer_id, spec);
    } catch (const net::CallError& err) {
      if (!err.maybe_delivered()) {
        throw;
      }
      // The create may have happened: look before trying again (never a blind retry).
      std::optional<vast::Instance> again;
      try {
        again = find_by_label(c, intent.key);
      } catch (const Error& lookup) {
        if (lookup.kind() == ErrorKind::interrupted) {
          throw;
        }
        throw Error(ErrorKind::provider,
                    fmt::format("{}; looking for instance {} failed too ({}): the rent may have "
                                "happened, so run the same command again or 'gpuctl worker sync' "
                                "to find out",
                                err.what(), intent.key, lookup.what()));
      }
      if (!again) {
        throw Error(ErrorKind::provider,
                    fmt::format("{}; no instance labelled {} exists, so nothing was rented: run the "
                                "same command again",
                                err.what(), intent.key));
      }
      id = again->id;
    } catch (const Error& err) {
      if (err.kind() == ErrorKind::conflict) { // offer gone: nothing was created, undo the intent
        db.write([&] {
          store::delete_worker(db.sql(), w.id);
          store::insert_event(db.sql(), e.clock.now(), "rent-failed", std::nullopt, err.what());
        });
      }
      throw;
    }
    failpoint("rent-after-create");
    out.instance_id = id;
  }
  out.worker = register_rented(db, e, w, intent.id, out.instance_id, price);
  return out;
}

std::string
state_or_status(const vast::Instance& i)
{
  if (vast::scheduling(i)) {
    return "scheduling";
  }
  return i.actual_status.value_or("provisioning");
}

} // namespace

std::vector<vast::Offer>
search_offers(store::Database& db, Env& e, const std::string& account, const vast::OfferQuery& q)
{
  auto picked = pick_vast_account(db, account);
  auto c = picked ? vast_client(db, e, *picked) : vast_client_standard(e);
  return c.search_offers(q);
}

void
check_daily_budget(store::Database& db, Env& e, const store::AccountRow& account,
                   double extra_usd_per_hour, const std::string& what)
{
  Instant now = e.clock.now();
  auto quotas = quota::compute_quotas(db, e.cfg, now, account.name);
  if (quotas.empty() || !quotas.front().spend || quotas.front().spend->max_usd_per_day <= 0) {
    return;
  }
  const auto& spend = *quotas.front().spend;
  double hours_left = std::chrono::duration<double>(spend.day_end - now).count() / 3600.0;
  double running = 0;
  for (const auto& s : store::open_sessions_of_account(db.sql(), account.id)) {
    running += s.price_usd_per_hour.value_or(0);
  }
  double projected = spend.usd + (running + extra_usd_per_hour) * hours_left;
  if (projected > spend.max_usd_per_day + 1e-9) {
    throw_conflict("{} refused: account '{}' has spent ${:.2f} today and would reach ${:.2f} by "
                   "the end of the UTC day, over its max_usd_per_day of ${:.2f}",
                   what, account.name, spend.usd, projected, spend.max_usd_per_day);
  }
}

RentResult
rent(store::Database& db, Env& e, const RentRequest& r)
{
  validate_name(r.worker, "worker");
  auto account = store::require_account(db.sql(), r.account);
  if (account.provider != "vast") {
    throw_usage("account '{}' is a {} account; offers are rented on vast accounts", r.account,
                account.provider);
  }
  auto c = vast_client(db, e, account);
  if (auto existing = store::find_worker(db.sql(), r.worker)) {
    json spec = json::parse(existing->spec_json, nullptr, false);
    bool same = existing->provider == "vast" && existing->account_id == account.id &&
                spec.is_object() && spec.value("offer_id", std::int64_t{0}) == r.offer_id;
    if (!same) {
      throw_conflict("worker '{}' already exists; pick another name", r.worker);
    }
    if (spec.value("image", "") != r.image || spec.value("disk_gb", 0.0) != r.disk_gb ||
        spec.value("onstart", "") != r.onstart || spec.value("env", json::object()) != json(r.env)) {
      throw_conflict("worker '{}' already rents offer {} with another image, disk, onstart or "
                     "env; pick another name",
                     r.worker, r.offer_id);
    }
    for (const auto& intent : store::open_intents_of_worker(db.sql(), existing->id)) {
      if (intent.kind == "rent") {
        return finish_rent(db, e, c, *existing, intent, r.offer_id,
                           existing->price_usd_per_hour.value_or(0), true);
      }
    }
    RentResult out;
    out.worker = *existing;
    out.instance_id = std::stoll(existing->provider_ref.value_or("0"));
    out.price_usd_per_hour = existing->price_usd_per_hour.value_or(0);
    out.unchanged = true;
    return out;
  }
  vast::OfferQuery q;
  q.id = r.offer_id;
  q.defaults = false;
  q.disk_gb = r.disk_gb;
  q.limit = 1;
  auto offers = c.search_offers(q);
  if (offers.empty()) {
    throw_conflict("vast.ai offer {} is not available (rented or gone); search again", r.offer_id);
  }
  const auto& offer = offers.front();
  double price = offer.price_usd_per_hour.value_or(0);
  if (offer.disk_gb && r.disk_gb > *offer.disk_gb) {
    throw_conflict("offer {} has {:.0f} GB of disk; --disk {:.0f} does not fit", r.offer_id,
                   *offer.disk_gb, r.disk_gb);
  }
  if (r.max_price && price > *r.max_price) {
    throw_conflict("offer {} costs ${:.3f}/h, over --max-price ${:.3f}/h", r.offer_id, price,
                   *r.max_price);
  }
  check_daily_budget(db, e, account, price, "renting offer " + std::to_string(r.offer_id));
  Instant now = e.clock.now();
  auto [worker, intent] = db.write([&] {
    store::WorkerRow w;
    w.name = r.worker;
    w.account_id = account.id;
    w.provider = "vast";
    w.gpu = offer.gpu;
    w.gpu_count = std::max(1, offer.num_gpus);
    w.state = "starting";
    w.control = r.control;
    w.spec_json = spec_text(r, offer, r.max_price.value_or(price));
    w.price_usd_per_hour = price;
    w.created_at = now;
    w.id = store::insert_worker(db.sql(), w);
    store::IntentRow in;
    in.kind = "rent";
    in.worker_id = w.id;
    in.key = vast::instance_label(w.id, 1);
    in.created_at = now;
    in.detail_json = json{{"offer_id", r.offer_id}}.dump();
    in.id = store::insert_intent(db.sql(), in);
    return std::pair{store::require_worker(db.sql(), r.worker), in};
  });
  failpoint("rent-before-create");
  auto out = finish_rent(db, e, c, worker, intent, r.offer_id, price, false);
  out.resumed = false;
  return out;
}

SyncReport
sync_workers(store::Database& db, Env& e, const std::string& only, bool adopt)
{
  SyncReport report;
  std::vector<store::AccountRow> accounts;
  if (!only.empty()) {
    auto a = store::require_account(db.sql(), only);
    if (a.provider != "vast") {
      throw_usage("account '{}' is a {} account; worker sync reads vast accounts", only,
                  a.provider);
    }
    accounts.push_back(a);
  } else {
    for (auto& a : store::list_accounts(db.sql())) {
      if (a.provider == "vast") {
        accounts.push_back(std::move(a));
      }
    }
  }
  for (const auto& account : accounts) {
    SyncReport::Account ar;
    ar.name = account.name;
    vast::Listing listing;
    std::optional<vast::Client> client;
    try {
      client.emplace(vast_client(db, e, account));
      listing = client->list_instances();
    } catch (const Error& err) {
      if (err.kind() == ErrorKind::interrupted || err.kind() == ErrorKind::usage) {
        throw; // bad input (e.g. shared credentials) is the user's to fix, not a provider fault
      }
      ar.error = err.what(); // a failed page: decide nothing for this account
      report.accounts.push_back(std::move(ar));
      continue;
    }
    ar.instances = static_cast<int>(listing.instances.size());
    ar.pages = listing.pages;
    std::map<std::string, const vast::Instance*> by_id;
    std::map<std::string, const vast::Instance*> by_label;
    for (const auto& i : listing.instances) {
      by_id[std::to_string(i.id)] = &i;
      if (!i.label.empty()) {
        by_label[i.label] = &i;
      }
    }
    auto workers = store::list_workers(db.sql(), {account.name, "vast"});
    // Workers whose instance is missing from this complete listing: confirm each with one show
    // call (outside any transaction) before believing it gone.
    std::set<std::int64_t> gone;
    for (const auto& w : workers) {
      if (w.provider_ref && w.state != "deleted" && !by_id.count(*w.provider_ref)) {
        if (!client->show_instance(std::stoll(*w.provider_ref))) {
          gone.insert(w.id);
        }
      }
    }
    Instant now = e.clock.now();
    db.write([&] {
      // Read afresh inside the transaction, over every vast account: another process (a rent,
      // another sync) may have registered instances since the listing, and two accounts may
      // share a key. A destroyed worker holds nothing: its instance, if still listed, shows up.
      std::set<std::string> held;
      std::set<std::int64_t> live_ids;
      for (const auto& w : store::list_workers(db.sql(), {"", "vast"})) {
        if (w.provider_ref && w.state != "deleted") {
          held.insert(*w.provider_ref);
        }
        if (w.state != "deleted") {
          live_ids.insert(w.id);
        }
      }
      // One query each instead of one per worker (5,000 instances: DESIGN §8's sweep budget).
      auto intents = store::open_intents_by_worker(db.sql());
      std::map<std::int64_t, store::SessionRow> sessions;
      for (auto& s : store::open_sessions(db.sql())) {
        if (s.worker_id) {
          sessions.emplace(*s.worker_id, std::move(s));
        }
      }
      auto hibernation = store::hibernation_all(db.sql());
      for (const auto& w : workers) {
        if (!w.provider_ref) { // an interrupted rent: its label may be in the listing
          for (const auto& intent : intents[w.id]) {
            auto hit = by_label.find(intent.key);
            if (intent.kind == "rent" && hit != by_label.end() &&
                !held.count(std::to_string(hit->second->id))) {
              const auto& i = *hit->second;
              store::set_worker_instance(db.sql(), w.id, std::to_string(i.id));
              store::confirm_intent(db.sql(), intent.id, now, json{{"instance_id", i.id}}.dump());
              held.insert(std::to_string(i.id));
              report.completed.push_back(w.name);
            }
          }
        }
      }
      for (auto w : store::list_workers(db.sql(), {account.name, "vast"})) {
        if (!w.provider_ref || w.state == "deleted") {
          continue;
        }
        std::optional<store::SessionRow> open;
        if (auto it = sessions.find(w.id); it != sessions.end()) {
          open = it->second;
        }
        if (gone.count(w.id)) {
          store::observe_worker(db.sql(), w.id, {"deleted", std::nullopt, std::nullopt, now});
          if (open) {
            store::close_session(db.sql(), open->id, now, "gone");
          }
          store::insert_event(db.sql(), now, "vanished", w.id, "instance missing from the listing "
                              "and confirmed gone", json{{"instance_id", *w.provider_ref}}.dump());
          report.vanished.push_back(w.name);
          continue;
        }
        auto it = by_id.find(*w.provider_ref);
        if (it == by_id.end()) {
          continue; // missing from the listing but still shown: decide nothing
        }
        const auto& i = *it->second;
        std::string state = vast::worker_state(i);
        if (state == "offline" && (w.state == "hibernated" || w.state == "stopping")) {
          state = w.state; // stopped on purpose: keep why (a stop in flight settles itself)
        }
        if (state == "online" && (w.state == "idle" || w.state == "stopping")) {
          state = w.state; // the sweep's own states while the instance still runs
        }
        store::observe_worker(db.sql(), w.id,
                              {state, i.price_usd_per_hour, i.gpu_util, now, i.ssh_address()});
        bool running = state == "online" || state == "starting" || state == "idle" ||
                       (state == "stopping" && vast::worker_state(i) != "offline");
        // A start or stop whose call went out but whose process died before recording it
        // (killed between the call and the commit): the listing shows the outcome, so it is
        // completed here with the reason its intent carried, and never sent again.
        for (const auto& intent : intents[w.id]) {
          json d = json::parse(intent.detail_json, nullptr, false);
          if (intent.kind == "stop" && running && d.is_object() && d.value("maybe_delivered", false)) {
            // A hibernation stop whose call failed but may have been carried out: the instance
            // still runs, so it was not; left open it would close a later hibernation at its time.
            store::confirm_intent(db.sql(), intent.id, now,
                                  json{{"failed", "the listing shows the instance running: the "
                                                  "stop did not happen"}}
                                      .dump());
            continue;
          }
          if ((intent.kind == "stop" && !running) || (intent.kind == "start" && running)) {
            std::string reason = d.is_object() ? d.value("close_reason", std::string("stopped"))
                                               : std::string("stopped");
            store::confirm_intent(db.sql(), intent.id, now,
                                  json{{"completed_by", "sync"}, {"close_reason", reason}}.dump());
            if (intent.kind == "stop" && open) {
              store::close_session(db.sql(), open->id,
                                   std::clamp(intent.created_at, open->started_at, now), reason);
              open.reset();
            }
            if (intent.kind == "stop" && reason == "hibernated") {
              store::set_worker_state(db.sql(), w.id, "hibernated", now);
              auto h = store::hibernation_of(db.sql(), w.id);
              h.hibernated_at = intent.created_at;
              h.idle_since.reset();
              store::save_hibernation(db.sql(), h);
              hibernation[w.id] = h; // the storage update below starts from this row
            }
            store::insert_event(db.sql(), now, intent.kind, w.id,
                                fmt::format("worker {} (completed from the listing after an "
                                            "interrupted call{})",
                                            intent.kind,
                                            intent.kind == "stop" ? ": " + reason : std::string()),
                                json{{"instance_id", i.id}}.dump());
          }
        }
        if (running && !open) {
          open_session_at(db, w, now, i.price_usd_per_hour);
        } else if (!running && open) {
          store::close_session(db.sql(), open->id, now, "stopped");
        }
        if (i.storage_usd_per_hour) { // what it costs while stopped (hibernate stats)
          auto hit = hibernation.find(w.id);
          auto h = hit != hibernation.end() ? hit->second : store::HibernationRow{w.id};
          if (h.storage_usd_per_hour != i.storage_usd_per_hour) {
            h.storage_usd_per_hour = i.storage_usd_per_hour;
            store::save_hibernation(db.sql(), h);
          }
        }
        report.updated.push_back(w.name);
      }
      for (const auto& i : listing.instances) {
        std::string id = std::to_string(i.id);
        if (held.count(id)) {
          continue;
        }
        Unmanaged u{account.name, i.id, i.label, i.gpu, state_or_status(i), std::nullopt};
        // gpuctl:<id>:<gen> of a worker that still exists: its rent is being completed by
        // another process; never adopt it under a second name.
        bool pending_rent = false;
        if (i.label.rfind("gpuctl:", 0) == 0) {
          try {
            pending_rent = live_ids.count(std::stoll(i.label.substr(7))) > 0;
          } catch (const std::exception&) {
          }
        }
        if (adopt && !pending_rent) {
          std::string name = "vast-" + id;
          try {
            validate_name(i.label, "worker");
            if (!store::find_worker(db.sql(), i.label)) {
              name = i.label;
            }
          } catch (const Error&) {
          }
          if (store::find_worker(db.sql(), name)) {
            name = "vast-" + id + "-" + account.name;
          }
          store::WorkerRow w;
          w.name = name;
          w.account_id = account.id;
          w.provider = "vast";
          w.gpu = i.gpu;
          w.gpu_count = std::max(1, i.num_gpus);
          w.state = vast::worker_state(i);
          w.provider_ref = id;
          w.spec_json = json{{"gpu", i.gpu},
                             {"num_gpus", i.num_gpus},
                             {"region", i.region},
                             {"image", i.image},
                             {"disk_gb", i.disk_gb.value_or(16.0)},
                             {"onstart", i.onstart},
                             {"env", json::object()},
                             {"adopted", true},
                             {"generation", 1}}
                           .dump();
          w.price_usd_per_hour = i.price_usd_per_hour;
          w.gpu_util = i.gpu_util;
          w.last_seen_at = now;
          w.created_at = now;
          w.id = store::insert_worker(db.sql(), w);
          store::observe_worker(db.sql(), w.id, {w.state, i.price_usd_per_hour, i.gpu_util, now});
          if (w.state == "online" || w.state == "starting") {
            open_session_at(db, w, now, i.price_usd_per_hour);
          }
          store::insert_event(db.sql(), now, "adopt", w.id, "worker sync --adopt",
                              json{{"instance_id", i.id}}.dump());
          held.insert(id);
          u.adopted_as = name;
        }
        report.unmanaged.push_back(std::move(u));
      }
    });
    report.accounts.push_back(std::move(ar));
  }
  return report;
}

namespace {

struct VastTarget {
  store::WorkerRow worker;
  store::AccountRow account;
  std::int64_t instance_id = 0;
};

VastTarget
vast_target(store::Database& db, const std::string& name, const std::string& verb)
{
  auto w = store::require_worker(db.sql(), name);
  if (w.provider != "vast") {
    throw_usage("worker '{}' is a {} worker; {} applies to vast workers only{}", name, w.provider,
                verb,
                verb == "destroy" ? "" : " (use 'gpuctl session start|stop' for the others)");
  }
  if (!w.provider_ref || w.state == "deleted") {
    throw_usage("worker '{}' has no vast.ai instance{}", name,
                w.state == "deleted" ? " (it was destroyed)" : "");
  }
  auto a = store::require_account(db.sql(), w.account);
  return {w, a, std::stoll(*w.provider_ref)};
}

template <typename Call>
store::WorkerRow
bracketed(store::Database& db, Env& e, const VastTarget& t, const std::string& kind,
          const char* failpoint_name, Call&& call, const std::string& state,
          const std::optional<std::string>& close_reason, bool open_session)
{
  Instant now = e.clock.now();
  auto intent_id = db.write([&] {
    store::IntentRow in;
    in.kind = kind;
    in.worker_id = t.worker.id;
    in.key = *t.worker.provider_ref;
    in.created_at = now;
    if (close_reason) {
      in.detail_json = json{{"close_reason", *close_reason}}.dump();
    }
    return store::insert_intent(db.sql(), in);
  });
  try {
    call();
  } catch (const Error& err) {
    // The call failed (after its retries): the intent is settled as failed, not left open.
    db.write([&] {
      store::confirm_intent(db.sql(), intent_id, now, json{{"failed", err.what()}}.dump());
    });
    throw;
  }
  failpoint(failpoint_name);
  return db.write([&] {
    store::confirm_intent(db.sql(), intent_id, now);
    store::observe_worker(db.sql(), t.worker.id, {state, std::nullopt, std::nullopt, now});
    auto open = store::open_session_of_worker(db.sql(), t.worker.id);
    if (open && close_reason) {
      store::close_session(db.sql(), open->id, now, *close_reason);
    }
    if (!open && open_session) {
      open_session_at(db, t.worker, now, t.worker.price_usd_per_hour);
    }
    store::insert_event(db.sql(), now, kind, t.worker.id, "worker " + kind,
                        json{{"instance_id", t.instance_id}}.dump());
    return store::require_worker(db.sql(), t.worker.name);
  });
}

} // namespace

store::WorkerRow
start_worker(store::Database& db, Env& e, const std::string& name)
{
  auto t = vast_target(db, name, "start");
  auto c = vast_client(db, e, t.account);
  if (!store::open_session_of_worker(db.sql(), t.worker.id)) {
    check_daily_budget(db, e, t.account, t.worker.price_usd_per_hour.value_or(0),
                       "starting '" + name + "'");
  }
  return bracketed(db, e, t, "start", "start-after-call", [&] { c.set_state(t.instance_id, true); },
                   "starting", std::nullopt, true);
}

store::WorkerRow
stop_worker(store::Database& db, Env& e, const std::string& name, const std::string& reason)
{
  auto t = vast_target(db, name, "stop");
  auto c = vast_client(db, e, t.account);
  return bracketed(db, e, t, "stop", "stop-after-call", [&] { c.set_state(t.instance_id, false); },
                   "offline", reason, false);
}

store::WorkerRow
destroy_worker(store::Database& db, Env& e, const std::string& name)
{
  auto t = vast_target(db, name, "destroy");
  auto c = vast_client(db, e, t.account);
  return bracketed(
      db, e, t, "destroy", "destroy-after-call",
      [&] {
        c.destroy_instance(t.instance_id);
        if (c.show_instance(t.instance_id)) {
          throw Error(ErrorKind::provider,
                      fmt::format("vast.ai destroy instance: instance {} is still listed after the "
                                  "destroy; run 'gpuctl worker destroy {}' again",
                                  t.instance_id, name));
        }
      },
      "deleted", std::string("destroyed"), false);
}

} // namespace gpuctl::cloud

namespace gpuctl::cloud {

store::WorkerRow
wait_until_online(store::Database& db, Env& e, const std::string& name)
{
  auto t = vast_target(db, name, "rent --wait");
  auto c = vast_client(db, e, t.account);
  const auto poll = std::chrono::seconds(5);
  const auto limit = e.cfg.get_duration("providers.vast.start_timeout");
  std::string last = "provisioning";
  for (auto waited = std::chrono::seconds(0);; waited += poll) {
    auto i = c.show_instance(t.instance_id);
    if (!i) {
      throw Error(ErrorKind::failure, fmt::format("instance {} of worker '{}' is gone",
                                                  t.instance_id, name));
    }
    std::string state = vast::worker_state(*i);
    last = state_or_status(*i);
    if (state == "online") {
      Instant now = e.clock.now();
      return db.write([&] {
        store::observe_worker(db.sql(), t.worker.id,
                              {state, i->price_usd_per_hour, i->gpu_util, now, i->ssh_address()});
        return store::require_worker(db.sql(), name);
      });
    }
    if (waited >= limit) {
      break;
    }
    e.sleeper.sleep(poll);
  }
  throw Error(ErrorKind::failure,
              fmt::format("instance {} of worker '{}' is still {} after {} s (start_timeout)",
                          t.instance_id, name, last, limit.count()));
}

RerentResult
rerent(store::Database& db, Env& e, const std::string& name, const RerentOptions& o)
{
  auto w = store::require_worker(db.sql(), name);
  if (w.provider != "vast") {
    throw_usage("worker '{}' is a {} worker; wake applies to vast workers", name, w.provider);
  }
  auto account = store::require_account(db.sql(), w.account);
  auto c = vast_client(db, e, account);
  json spec = json::parse(w.spec_json, nullptr, false);
  if (!spec.is_object() || spec.value("image", "").empty()) {
    throw_usage("worker '{}' has no saved instance spec (image, disk): it was not rented by "
                "gpuctl, so it cannot be recreated",
                name);
  }
  RerentResult out;
  out.old_instance = w.provider_ref ? std::stoll(*w.provider_ref) : 0;
  // An earlier re-rent that died after its intent: finish it instead of renting another.
  for (const auto& intent : store::open_intents_of_worker(db.sql(), w.id)) {
    if (intent.kind == "rent") {
      json d = json::parse(intent.detail_json, nullptr, false);
      std::int64_t offer = d.is_object() ? d.value("offer_id", std::int64_t{0}) : 0;
      auto r = finish_rent(db, e, c, w, intent, offer, w.price_usd_per_hour.value_or(0), true);
      out.worker = r.worker;
      out.offer_id = offer;
      out.new_instance = r.instance_id;
      out.price_usd_per_hour = r.price_usd_per_hour;
      out.old_instance = d.is_object() ? d.value("old_instance", std::int64_t{0}) : 0;
      return out;
    }
  }
  vast::OfferQuery q;
  q.gpu = o.gpu ? *o.gpu : spec.value("gpu", w.gpu);
  // The region only when asked for (or saved as a constraint): where the first offer happened
  // to be is not a requirement.
  std::string region = o.region ? *o.region : spec.value("region_constraint", std::string());
  if (!region.empty()) {
    q.regions = {region};
  }
  if (spec.contains("reliability") && spec["reliability"].is_number()) {
    q.min_reliability = spec["reliability"].get<double>();
  }
  double saved_max = spec.value("max_usd_per_hour", 0.0);
  if (o.max_price || saved_max > 0) {
    q.max_price = o.max_price ? *o.max_price : saved_max;
  }
  q.disk_gb = spec.value("disk_gb", 16.0);
  q.limit = 50;
  const int count = std::max(1, spec.value("num_gpus", w.gpu_count));
  std::optional<vast::Offer> pick;
  for (const auto& offer : c.search_offers(q)) {
    if (offer.num_gpus >= count && (!offer.disk_gb || *offer.disk_gb >= q.disk_gb)) {
      pick = offer;
      break;
    }
  }
  if (!pick) {
    throw_conflict("no vast.ai offer matches worker '{}' ({} × {}{}{}, {:.0f} GB disk); widen "
                   "--gpu, --region or --max-price",
                   name, count, *q.gpu, q.regions.empty() ? "" : " in " + q.regions.front(),
                   q.max_price ? fmt::format(", ≤ ${:.3f}/h", *q.max_price) : std::string(),
                   q.disk_gb);
  }
  double price = pick->price_usd_per_hour.value_or(0);
  check_daily_budget(db, e, account, price, "re-renting '" + name + "'");
  Instant now = e.clock.now();
  auto [worker, intent] = db.write([&] {
    auto cur = store::require_worker(db.sql(), name);
    json s = json::parse(cur.spec_json);
    int generation = s.value("generation", 1) + 1;
    s["generation"] = generation;
    s["offer_id"] = pick->id;
    s["gpu"] = pick->gpu;
    s["num_gpus"] = pick->num_gpus;
    s["region"] = pick->region;
    if (!o.extra_onstart.empty()) {
      std::string onstart = s.value("onstart", std::string());
      if (onstart.find(o.extra_onstart) == std::string::npos) {
        if (!onstart.empty() && onstart.back() != '\n') {
          onstart += '\n';
        }
        s["onstart"] = onstart + o.extra_onstart;
      }
    }
    store::set_worker_spec(db.sql(), cur.id, s.dump());
    if (auto open = store::open_session_of_worker(db.sql(), cur.id)) {
      store::close_session(db.sql(), open->id, now, "re-rented");
    }
    store::detach_instance(db.sql(), cur.id, pick->gpu, price);
    store::IntentRow in;
    in.kind = "rent";
    in.worker_id = cur.id;
    in.key = vast::instance_label(cur.id, generation);
    in.created_at = now;
    in.detail_json = json{{"offer_id", pick->id}, {"old_instance", out.old_instance}}.dump();
    in.id = store::insert_intent(db.sql(), in);
    return std::pair{store::require_worker(db.sql(), name), in};
  });
  failpoint("rent-before-create");
  auto r = finish_rent(db, e, c, worker, intent, pick->id, price, false);
  out.worker = r.worker;
  out.offer_id = pick->id;
  out.new_instance = r.instance_id;
  out.price_usd_per_hour = price;
  if (o.destroy_old && out.old_instance > 0) {
    c.destroy_instance(out.old_instance);
    out.old_destroyed = true;
    db.write([&] {
      store::insert_event(db.sql(), e.clock.now(), "destroy", w.id, "the old instance (--destroy-old)",
                          json{{"instance_id", out.old_instance}}.dump());
    });
  }
  return out;
}

} // namespace gpuctl::cloud
