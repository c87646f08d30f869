// SPDX-License-Identifier: MIT
// gpuctl hibernate-sweep, gpuctl hibernate config|now|schedule|watchdog|stats, gpuctl wake.
#include "app.hpp"

#include "gpuctl/core/duration.hpp"
#include "gpuctl/core/error.hpp"
#include "gpuctl/hibernate/idle.hpp"
#include "gpuctl/hibernate/stats.hpp"
#include "gpuctl/hibernate/sweep.hpp"
#include "gpuctl/hibernate/wake_schedule.hpp"
#include "gpuctl/hibernate/watchdog.hpp"
#include "gpuctl/output/json.hpp"
#include "gpuctl/output/table.hpp"
#include "gpuctl/store/hibernation.hpp"

#include <filesystem>
#include <iostream>

namespace gpuctl::app {

namespace {

store::WorkerRow
vast_worker(store::Database& db, const std::string& name)
{
  auto w = store::require_worker(db.sql(), name);
  if (w.provider != "vast") {
    throw_usage("worker '{}' is a {} worker; hibernation applies to vast.ai workers", name,
                w.provider);
  }
  return w;
}

/// A worker's effective idle rules (its overrides, else [hibernate]).
hibernate::Rules
worker_rules(Context& ctx, store::Database& db, const store::WorkerRow& w)
{
  return hibernate::effective_rules(
      hibernate::overrides_from_json_text(store::hibernation_of(db.sql(), w.id).config_json),
      ctx.config());
}

nlohmann::ordered_json
rules_json(const hibernate::Rules& r)
{
  return {{"enabled", r.enabled},
          {"idle_below", r.idle_below},
          {"idle_for_s", r.idle_for.count()},
          {"grace_s", r.grace.count()},
          {"delete_after_s",
           r.delete_after ? nlohmann::ordered_json(r.delete_after->count()) : nlohmann::ordered_json(nullptr)}};
}

std::string
rules_text(const hibernate::Rules& r)
{
  return fmt::format("enabled {}, idle below {:g}% for {}, grace {}, delete after {}",
                     r.enabled ? "yes" : "no", r.idle_below, format_duration(r.idle_for),
                     format_duration(r.grace),
                     r.delete_after ? format_duration(*r.delete_after) : std::string("never"));
}

} // namespace

void
register_hibernate_sweep(CLI::App& app, Registry& r)
{
  {
    auto* sub = app.add_subcommand(
        "hibernate-sweep",
        "stop idle vast.ai instances, destroy long-hibernated ones, apply wake/sleep schedules "
        "(for cron)\nExample: * * * * * gpuctl --quiet hibernate-sweep");
    auto dry = std::make_shared<bool>(false);
    sub->add_flag("--dry-run", *dry, "decide from the samples already recorded; call and write nothing");
    r.on(sub, [=](Context& ctx) {
      auto db = ctx.open(*dry ? store::Access::read : store::Access::write_existing);
      std::optional<hibernate::SweepLock> lock;
      if (!*dry && std::filesystem::exists(ctx.db_path())) {
        // Without a state file there is nothing to sweep (and no directory for a lock): a
        // crontab line set up before `gpuctl init` stays silent.
        lock.emplace(ctx.db_path());
      }
      auto rep = hibernate::sweep(db, ctx.cloud(), *dry);
      ctx.flush_warnings();
      bool failed = !rep.errors.empty();
      for (const auto& a : rep.accounts) {
        failed = failed || a.error.has_value();
      }
      if (ctx.json()) {
        nlohmann::ordered_json accounts = nlohmann::ordered_json::array();
        for (const auto& a : rep.accounts) {
          accounts.push_back({{"account", a.name},
                              {"instances", a.instances},
                              {"pages", a.pages},
                              {"error", a.error ? nlohmann::ordered_json(*a.error) : nlohmann::ordered_json(nullptr)}});
        }
        nlohmann::ordered_json actions = nlohmann::ordered_json::array();
        for (const auto& a : rep.actions) {
          actions.push_back({{"worker", a.worker}, {"action", a.action}, {"reason", a.reason}});
        }
        ctx.print_json({{"at", output::instant_json(ctx.now())},
                        {"dry_run", *dry},
                        {"accounts", accounts},
                        {"samples", rep.samples},
                        {"actions", actions},
                        {"errors", rep.errors}});
      } else if (!ctx.globals().quiet) { // cron: --quiet prints only errors
        for (const auto& a : rep.actions) {
          std::cout << fmt::format("{}  {}{}  {}  {}\n", ctx.zone().format(ctx.now()),
                                   *dry ? "would " : "", a.action, a.worker, a.reason);
        }
      }
      for (const auto& a : rep.accounts) {
        if (a.error) { // even with --quiet: cron must see why it exits 3
          std::cerr << fmt::format("gpuctl: error: account {}: {}; nothing was decided for it\n",
                                   a.name, *a.error);
        }
      }
      for (const auto& e : rep.errors) {
        std::cerr << "gpuctl: error: " << e << '\n';
      }
      return failed ? 3 : 0;
    });
  }
}

void
register_hibernate(CLI::App& app, Registry& r)
{
  auto* hib = app.add_subcommand("hibernate", "idle rules, schedules and savings of vast.ai workers\n"
                                              "Example: gpuctl hibernate config v1 --delete-after 30m");
  hib->require_subcommand(1);
  {
    auto* sub = hib->add_subcommand(
        "config", "show or change a worker's idle rules (defaults: [hibernate])\n"
                  "Example: gpuctl hibernate config v1 --idle-below 3 --idle-for 5m");
    struct Opts {
      std::string worker, idle_for, grace, delete_after;
      double idle_below = 0;
      bool enable = false, disable = false;
    };
    auto o = std::make_shared<Opts>();
    sub->add_option("worker", o->worker, "a vast.ai worker")->required();
    auto* en = sub->add_flag("--enable", o->enable, "hibernate it when idle");
    auto* dis = sub->add_flag("--disable", o->disable, "never hibernate it");
    en->excludes(dis);
    auto* below = sub->add_option("--idle-below", o->idle_below, "GPU percent below which it is idle")
                      ->check(decimal_arg());
    sub->add_option("--idle-for", o->idle_for, "idle this long → hibernate");
    sub->add_option("--grace", o->grace, "no decision this long after a start or wake");
    sub->add_option("--delete-after", o->delete_after, "hibernated this long → destroy, or never");
    r.on(sub, [=](Context& ctx) {
      hibernate::Overrides change;
      if (o->enable) change.enabled = true;
      if (o->disable) change.enabled = false;
      if (below->count() > 0) {
        if (o->idle_below <= 0 || o->idle_below > 100) {
          throw_usage("--idle-below must be in (0, 100], not {:g}", o->idle_below);
        }
        change.idle_below = o->idle_below;
      }
      if (!o->idle_for.empty()) change.idle_for = parse_duration(o->idle_for, "--idle-for");
      if (!o->grace.empty()) change.grace = parse_duration(o->grace, "--grace");
      if (!o->delete_after.empty()) {
        change.delete_after = parse_duration_or_never(o->delete_after, "--delete-after");
      }
      bool changing = change.enabled || change.idle_below || change.idle_for || change.grace ||
                      change.delete_after;
      auto db = ctx.open(changing ? store::Access::write_existing : store::Access::read);
      hibernate::Rules rules;
      if (changing) {
        rules = db.write([&] {
          auto w = vast_worker(db, o->worker);
          auto h = store::hibernation_of(db.sql(), w.id);
          auto cur = hibernate::overrides_from_json_text(h.config_json);
          if (change.enabled) cur.enabled = change.enabled;
          if (change.idle_below) cur.idle_below = change.idle_below;
          if (change.idle_for) cur.idle_for = change.idle_for;
          if (change.grace) cur.grace = change.grace;
          if (change.delete_after) cur.delete_after = change.delete_after;
          h.config_json = hibernate::to_json_text(cur);
          store::save_hibernation(db.sql(), h);
          store::insert_event(db.sql(), ctx.now(), "hibernate.config", w.id, "idle rules changed",
                              h.config_json);
          return hibernate::effective_rules(cur, ctx.config());
        });
      } else {
        rules = worker_rules(ctx, db, vast_worker(db, o->worker));
      }
      if (ctx.json()) {
        auto j = rules_json(rules);
        j["worker"] = o->worker;
        ctx.print_json(j);
      } else {
        std::cout << o->worker << ": " << rules_text(rules) << '\n';
      }
      return 0;
    });
  }
  {
    auto* sub = hib->add_subcommand("now", "stop a running vast.ai worker now, keeping its disk\n"
                                           "Example: gpuctl hibernate now v1");
    auto worker = std::make_shared<std::string>();
    sub->add_option("worker", *worker, "a vast.ai worker")->required();
    r.on(sub, [=](Context& ctx) {
      auto db = ctx.open(store::Access::write_existing);
      vast_worker(db, *worker);
      hibernate::SweepLock lock(ctx.db_path()); // never beside a sweep deciding the same worker
      auto w = hibernate::hibernate_now(db, ctx.cloud(), *worker);
      ctx.flush_warnings();
      if (ctx.json()) {
        ctx.print_json(output::worker_json(w));
      } else {
        ctx.note(fmt::format("hibernated {} (stopped; its disk is kept and still billed)", *worker));
      }
      return 0;
    });
  }
  {
    auto* sub = hib->add_subcommand(
        "schedule", "wake and sleep a vast.ai worker at local times\n"
                    "Example: gpuctl hibernate schedule v1 --wake 09:00 --sleep 18:00 --tz "
                    "Europe/Berlin --days mon-fri");
    struct Opts {
      std::string worker, wake, sleep, tz, days;
      bool clear = false;
    };
    auto o = std::make_shared<Opts>();
    sub->add_option("worker", o->worker, "a vast.ai worker")->required();
    auto* w_opt = sub->add_option("--wake", o->wake, "HH:MM: start it");
    auto* s_opt = sub->add_option("--sleep", o->sleep, "HH:MM: hibernate it (unless a job runs)");
    sub->add_option("--tz", o->tz, "IANA zone of the times (default: the display zone)");
    sub->add_option("--days", o->days, "mon-fri, sat,sun, daily … (default daily)");
    auto* c_opt = sub->add_flag("--clear", o->clear, "remove its schedule");
    c_opt->excludes(w_opt)->excludes(s_opt);
    r.on(sub, [=](Context& ctx) {
      if (o->clear) {
        auto db = ctx.open(store::Access::write_existing);
        bool had = db.write([&] {
          auto w = vast_worker(db, o->worker);
          return store::delete_schedule(db.sql(), w.id);
        });
        ctx.note(had ? fmt::format("cleared the schedule of {}", o->worker)
                     : fmt::format("{} had no schedule", o->worker));
        return 0;
      }
      store::ScheduleRow row;
      if (!o->wake.empty()) row.wake_min = hibernate::parse_clock(o->wake, "--wake");
      if (!o->sleep.empty()) row.sleep_min = hibernate::parse_clock(o->sleep, "--sleep");
      row.days = o->days.empty() ? hibernate::all_days : hibernate::parse_days(o->days);
      row.tz = o->tz.empty() ? ctx.zone().name() : DisplayZone::resolve(o->tz).name();
      if (!row.wake_min && !row.sleep_min) {
        auto db = ctx.open(store::Access::read);
        auto w = vast_worker(db, o->worker);
        auto s = store::schedule_of(db.sql(), w.id);
        if (ctx.json()) {
          ctx.print_json(
              s ? nlohmann::ordered_json{{"worker", o->worker},
                                         {"wake", s->wake_min ? nlohmann::ordered_json(hibernate::clock_text(*s->wake_min)) : nlohmann::ordered_json(nullptr)},
                                         {"sleep", s->sleep_min ? nlohmann::ordered_json(hibernate::clock_text(*s->sleep_min)) : nlohmann::ordered_json(nullptr)},
                                         {"tz", s->tz},
                                         {"days", hibernate::days_text(static_cast<std::uint8_t>(s->days))}}
                : nlohmann::ordered_json(nullptr));
        } else if (s) {
          std::cout << fmt::format("{}: wake {} sleep {} {} ({})\n", o->worker,
                                   s->wake_min ? hibernate::clock_text(*s->wake_min) : "-",
                                   s->sleep_min ? hibernate::clock_text(*s->sleep_min) : "-",
                                   hibernate::days_text(static_cast<std::uint8_t>(s->days)), s->tz);
        } else {
          ctx.note(fmt::format("{} has no schedule", o->worker));
        }
        return 0;
      }
      auto db = ctx.open(store::Access::write_existing);
      db.write([&] {
        auto w = vast_worker(db, o->worker);
        row.worker_id = w.id;
        row.last_checked_at = ctx.now();
        store::save_schedule(db.sql(), row);
        store::insert_event(db.sql(), ctx.now(), "schedule", w.id, "wake/sleep schedule set",
                            nlohmann::json{{"tz", row.tz}}.dump());
      });
      ctx.note(fmt::format("{}: wake {} sleep {} {} ({})", o->worker,
                           row.wake_min ? hibernate::clock_text(*row.wake_min) : "-",
                           row.sleep_min ? hibernate::clock_text(*row.sleep_min) : "-",
                           hibernate::days_text(static_cast<std::uint8_t>(row.days)), row.tz));
      return 0;
    });
  }
  {
    auto* sub = hib->add_subcommand(
        "watchdog", "print an onstart snippet that stops the instance itself when idle\n"
                    "Example: gpuctl hibernate watchdog v1 > onstart.sh");
    auto worker = std::make_shared<std::string>();
    auto script = std::make_shared<bool>(false);
    sub->add_option("worker", *worker, "a vast.ai worker")->required();
    sub->add_flag("--script", *script, "print the watchdog script itself, not the onstart lines");
    r.on(sub, [=](Context& ctx) {
      auto db = ctx.open(store::Access::read);
      auto w = vast_worker(db, *worker);
      auto p = hibernate::watchdog_params(worker_rules(ctx, db, w), ctx.config());
      std::cout << (*script ? hibernate::watchdog_snippet(p) : hibernate::watchdog_onstart(p));
      return 0;
    });
  }
  {
    auto* sub = hib->add_subcommand("stats", "instances per state, hours hibernated, dollars saved\n"
                                             "Example: gpuctl hibernate stats --since -7d --json");
    auto since = std::make_shared<std::string>();
    sub->add_option("--since", *since, "from this time (default: the first record)");
    r.on(sub, [=](Context& ctx) {
      std::optional<Instant> from;
      if (!since->empty()) {
        from = parse_time(*since, ctx.now(), ctx.zone(), "--since");
      }
      auto db = ctx.open(store::Access::read);
      auto s = hibernate::stats(db, from, ctx.now());
      if (ctx.json()) {
        ctx.print_json({{"since", output::instant_json(s.since)},
                        {"instances",
                         {{"online", s.online}, {"idle", s.idle}, {"hibernated", s.hibernated},
                          {"deleted", s.deleted}}},
                        {"hibernated_hours", s.hibernated_hours},
                        {"saved_usd", s.saved_usd},
                        {"storage_usd", s.storage_usd}});
      } else {
        std::cout << fmt::format(
            "since           {}\ninstances       {} online, {} idle, {} hibernated, {} deleted\n"
            "hibernated      {:.1f} h\nsaved           ${:.2f} (storage while stopped ${:.2f} "
            "already taken off)\n",
            local_or_dash(ctx, s.since), s.online, s.idle, s.hibernated, s.deleted,
            s.hibernated_hours, s.saved_usd, s.storage_usd);
      }
      return 0;
    });
  }
}

void
register_wake(CLI::App& app, Registry& r)
{
  auto* sub = app.add_subcommand(
      "wake", "start a hibernated vast.ai worker again (renting anew when its GPUs are gone)\n"
              "Example: gpuctl wake v1 --wait");
  struct Opts {
    std::string worker, gpu, region;
    double max_price = 0;
    bool wait = false, destroy_old = false, watchdog = false;
  };
  auto o = std::make_shared<Opts>();
  sub->add_option("worker", o->worker, "a vast.ai worker")->required();
  sub->add_option("--gpu", o->gpu, "re-rent: this GPU model instead of the saved one");
  sub->add_option("--region", o->region, "re-rent: this two-letter country code");
  auto* mp = sub->add_option("--max-price", o->max_price, "re-rent: at most this USD per hour")
                 ->check(decimal_arg());
  sub->add_flag("--wait", o->wait, "wait until it runs (up to [providers.vast] start_timeout)");
  sub->add_flag("--destroy-old", o->destroy_old,
                "re-rent: destroy the old stopped instance (its disk is lost)");
  sub->add_flag("--watchdog", o->watchdog,
                "re-rent: add the idle watchdog to the new instance's onstart");
  r.on(sub, [=](Context& ctx) {
    if (!o->region.empty() && (o->region.size() != 2 || !std::isalpha(static_cast<unsigned char>(o->region[0])) ||
                               !std::isalpha(static_cast<unsigned char>(o->region[1])))) {
      throw_usage("--region takes a two-letter country code such as US, not '{}'", o->region);
    }
    hibernate::WakeOptions wo;
    if (!o->gpu.empty()) wo.rerent.gpu = o->gpu;
    if (!o->region.empty()) wo.rerent.region = o->region;
    if (mp->count() > 0) wo.rerent.max_price = o->max_price;
    wo.rerent.destroy_old = o->destroy_old;
    wo.wait = o->wait;
    auto db = ctx.open(store::Access::write_existing);
    auto w = vast_worker(db, o->worker);
    if (o->watchdog) { // with this worker's idle rules
      wo.rerent.extra_onstart = hibernate::watchdog_onstart(
          hibernate::watchdog_params(worker_rules(ctx, db, w), ctx.config()));
    }
    auto res = hibernate::wake(db, ctx.cloud(), o->worker, wo);
    ctx.flush_warnings();
    if (res.rerented) {
      const auto& rr = *res.rerented;
      ctx.warn(fmt::format("{} was rented anew as instance {} (offer {}, ${:.3f}/h): the disk of "
                           "instance {} did not come along{}",
                           o->worker, rr.new_instance, rr.offer_id, rr.price_usd_per_hour,
                           rr.old_instance,
                           rr.old_destroyed ? " and that instance was destroyed"
                                            : "; it is left stopped (its storage is still billed): "
                                              "'gpuctl worker sync' lists it"));
    }
    if (ctx.json()) {
      auto j = output::worker_json(res.worker);
      j["rerented"] = res.rerented ? nlohmann::ordered_json{{"offer_id", res.rerented->offer_id},
                                                            {"old_instance", res.rerented->old_instance},
                                                            {"new_instance", res.rerented->new_instance},
                                                            {"old_destroyed", res.rerented->old_destroyed}}
                                   : nlohmann::ordered_json(nullptr);
      j["took_s"] = o->wait ? nlohmann::ordered_json(res.took.count()) : nlohmann::ordered_json(nullptr);
      ctx.print_json(j);
    } else {
      ctx.note(o->wait ? fmt::format("woke {}: {} after {}", o->worker, res.worker.state,
                                     format_duration(res.took))
                       : fmt::format("woke {}: {}", o->worker, res.worker.state));
    }
    return 0;
  });
}

} // namespace gpuctl::app
