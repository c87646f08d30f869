// SPDX-License-Identifier: MIT
#include "app.hpp"

#include "gpuctl/core/error.hpp"
#include "gpuctl/plan/input.hpp"
#include "gpuctl/plan/render.hpp"
#include "gpuctl/plan/save.hpp"
#include "gpuctl/net/interrupt.hpp"
#include "gpuctl/output/json.hpp"
#include "gpuctl/sched/backends.hpp"
#include "gpuctl/sched/snapshot.hpp"
#include "gpuctl/core/file_lock.hpp"
#include "gpuctl/sched/tick.hpp"

#include <spawn.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <sys/ioctl.h>
#include <unistd.h>

extern char** environ; // NOLINT: POSIX

namespace gpuctl::app {

namespace {

int
terminal_width()
{
  if (const char* c = std::getenv("COLUMNS"); c != nullptr && std::atoi(c) > 20) {
    return std::atoi(c);
  }
  winsize ws{};
  if (::ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 20) {
    return ws.ws_col;
  }
  return 100;
}

/// Runs `--notify CMD` as `sh -c CMD gpuctl-notify MESSAGE` (the message is "$1" and on stdin's
/// place nothing is read); waits for it, so reminders are not lost when the tick ends.
void
run_notify(const std::string& cmd, const std::string& message)
{
  const char* argv[] = {"sh", "-c", cmd.c_str(), "gpuctl-notify", message.c_str(), nullptr};
  pid_t pid = 0;
  if (::posix_spawnp(&pid, "sh", nullptr, nullptr, const_cast<char* const*>(argv), environ) != 0) {
    return;
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
}

nlohmann::ordered_json
tick_json(const sched::TickReport& rep, Instant at)
{
  nlohmann::ordered_json actions = nlohmann::ordered_json::array();
  for (const auto& a : rep.actions) {
    actions.push_back({{"at", output::instant_json(a.at)},
                       {"type", a.type},
                       {"worker", a.worker.empty() ? nlohmann::ordered_json(nullptr)
                                                   : nlohmann::ordered_json(a.worker)},
                       {"job", a.job ? nlohmann::ordered_json(*a.job) : nlohmann::ordered_json(nullptr)},
                       {"reason", a.reason}});
  }
  return {{"at", output::instant_json(at)},
          {"actions", actions},
          {"errors", rep.errors},
          {"interrupted", rep.interrupted}};
}

void
render_tick(Context& ctx, const sched::TickReport& rep, Instant at, bool dry_run)
{
  if (ctx.json()) {
    ctx.print_json(tick_json(rep, at));
  } else if (!ctx.globals().quiet) { // cron: --quiet prints only warnings and errors
    for (const auto& a : rep.actions) {
      std::cout << fmt::format("{}  {}{}  {}  {}  {}\n", ctx.zone().format(a.at),
                               dry_run ? "would " : "", a.type, a.worker.empty() ? "-" : a.worker,
                               a.job ? "job " + std::to_string(*a.job) : "-", a.reason);
    }
    std::cout << std::flush;
  }
  for (const auto& e : rep.errors) {
    ctx.warn(e);
  }
}

/// `schedule --once | --watch`: one tick, or ticks until SIGINT/SIGTERM (exit 0 after finishing
/// the tick in progress).
int
run_scheduler(Context& ctx, bool watch, const std::string& tick_text, bool dry_run,
              const std::string& notify, bool with_autoscale)
{
  std::optional<autoscale::Settings> scale;
  if (with_autoscale) {
    scale = autoscale::settings_from(ctx.config());
    autoscale::validate(*scale);
  }
  Seconds every = tick_text.empty() ? ctx.config().get_duration("scheduler.tick")
                                    : parse_duration(tick_text, "--tick");
  if (every < Seconds{1}) {
    throw_usage("--tick must be at least 1s");
  }
  auto db = ctx.open(dry_run ? store::Access::read : store::Access::write);
  std::optional<sched::TickLock> lock;
  std::optional<FileLock> scale_lock;
  if (!dry_run) {
    lock.emplace(ctx.db_path());
    if (scale) {
      scale_lock.emplace(ctx.db_path() + ".autoscale.lock",
                         "another autoscaler is running on this state file");
    }
  }
  net::install_interrupt_handlers();
  JobBackends backends(ctx, db);
  sched::TickEnv env{db, ctx.config(), ctx.clock(), backends.map(), {}, {}, {}, ctx.jobs_root()};
  env.start_instance = [&](const std::string& w) { cloud::start_worker(db, ctx.cloud(), w); };
  env.stop_instance = [&](const std::string& w, const std::string& reason) {
    cloud::stop_worker(db, ctx.cloud(), w, reason);
  };
  if (!notify.empty()) {
    env.notify = [notify](const std::string& m) { run_notify(notify, m); };
  }
  env.interrupted = [] { return net::interrupted(); };
  sched::TickOptions opts;
  opts.dry_run = dry_run;
  bool errors = false;
  for (;;) {
    auto rep = sched::tick(env, opts);
    ctx.flush_warnings();
    errors = errors || !rep.errors.empty();
    if (scale && ctx.json()) {
      // One JSON document per tick: the autoscaler's report goes under "autoscale".
      nlohmann::ordered_json out = tick_json(rep, ctx.now());
      nlohmann::ordered_json scaled;
      if (!net::interrupted()) {
        errors = !autoscale_once(ctx, db, backends, *scale, false, dry_run, &scaled) || errors;
      }
      out["autoscale"] = scaled;
      ctx.print_json(out);
    } else {
      render_tick(ctx, rep, ctx.now(), dry_run);
      if (scale && !net::interrupted()) {
        // The tick refreshed every worker already: the autoscaler lists nothing again.
        errors = !autoscale_once(ctx, db, backends, *scale, false, dry_run, nullptr) || errors;
      }
    }
    if (!watch) {
      return net::interrupted() ? 130 : errors ? 3 : 0;
    }
    if (net::interrupted() || !sleep_between_ticks(every)) {
      return 0;
    }
  }
}

} // namespace

bool
sleep_between_ticks(Seconds every)
{
  try {
    net::SignalSleeper sleeper;
    sleeper.sleep(std::chrono::duration_cast<net::Millis>(every));
  } catch (const Error& e) {
    if (e.kind() != ErrorKind::interrupted) {
      throw;
    }
  }
  return !net::interrupted(); // a signal between ticks: nothing is in progress
}

void
register_schedule(CLI::App& app, Registry& r)
{
  auto* sub = app.add_subcommand(
      "schedule", "plan sessions over the coming days within every quota\n"
                  "Example: gpuctl schedule --strategy 24x7 --format gantt");
  struct Opts {
    std::string strategy, from = "now", format = "table", providers;
    int days = 7, keep = 0;
    bool save = false, once = false, watch = false, dry_run = false, autoscale = false;
    std::string tick, notify;
  };
  auto o = std::make_shared<Opts>();
  auto* o_strategy = sub->add_option("--strategy", o->strategy, "24x7 | burst | economy");
  auto* o_once = sub->add_flag("--once", o->once, "run one scheduler tick (for cron)");
  auto* o_watch = sub->add_flag("--watch", o->watch, "run ticks until SIGINT/SIGTERM");
  o_once->excludes(o_watch);
  o_strategy->excludes(o_once)->excludes(o_watch);
  sub->add_option("--tick", o->tick, "--watch: time between ticks (default scheduler.tick)")
      ->check(nonempty_arg())
      ->excludes(o_once);
  sub->add_flag("--dry-run", o->dry_run, "--once/--watch: print what a tick would do, write nothing");
  sub->add_option("--notify", o->notify,
                  "--once/--watch: run CMD with a reminder as $1 (e.g. 'notify-send gpuctl \"$1\"')");
  sub->add_flag("--autoscale", o->autoscale,
                "--once/--watch: also run the Dask autoscaler ([autoscale]) in each tick");
  auto* o_from = sub->add_option("--from", o->from, "start of the horizon (default now)");
  auto* o_days = sub->add_option("--days", o->days, "length of the horizon in days (default 7)")->check(whole_arg());
  auto* o_keep = sub->add_option("--keep", o->keep, "economy: GPUs to keep online")->check(whole_arg());
  auto* o_format = sub->add_option("--format", o->format, "table | gantt | json | ics (default table)");
  auto* o_prov = sub->add_option("--providers", o->providers, "only these providers, comma-separated");
  auto* o_save = sub->add_flag("--save", o->save, "store the plan as the active one (the scheduler follows it)");
  for (auto* planning : {o_from, o_days, o_keep, o_format, o_prov, o_save}) {
    planning->excludes(o_once)->excludes(o_watch);
  }
  r.on(sub, [=](Context& ctx) {
    if (o->once || o->watch) {
      return run_scheduler(ctx, o->watch, o->tick, o->dry_run, o->notify, o->autoscale);
    }
    if (!o->tick.empty() || o->dry_run || !o->notify.empty() || o->autoscale) {
      throw_usage("--tick, --dry-run, --notify and --autoscale go with --once or --watch");
    }
    if (o->strategy.empty()) {
      throw_usage("give --strategy 24x7|burst|economy to plan, or --once/--watch to run the scheduler");
    }
    std::string format = ctx.json() ? "json" : o->format;
    if (format != "table" && format != "gantt" && format != "json" && format != "ics") {
      throw_usage("unknown --format '{}' (expected table, gantt, json or ics)", format);
    }
    plan::Strategy strategy = plan::parse_strategy(o->strategy);
    if (strategy != plan::Strategy::economy && o->keep != 0) {
      throw_usage("--keep applies to --strategy economy only");
    }
    std::vector<std::string> providers;
    if (o_prov->count() > 0 && o->providers.empty()) {
      throw_usage("--providers needs at least one provider (kaggle, colab, vast, ssh)");
    }
    for (size_t pos = 0; !o->providers.empty() && pos <= o->providers.size();) {
      size_t comma = o->providers.find(',', pos);
      if (comma == std::string::npos) comma = o->providers.size();
      providers.push_back(o->providers.substr(pos, comma - pos));
      pos = comma + 1;
    }
    Instant from = parse_time(o->from, ctx.now(), ctx.zone(), "--from");
    auto db = ctx.open(o->save ? store::Access::write : store::Access::read);
    auto in = plan::plan_input(db, ctx.config(), strategy, from, o->days, o->keep, providers, ctx.now());
    auto p = plan::make_plan(in);
    if (o->save) {
      nlohmann::ordered_json params{{"days", o->days}, {"keep", o->keep}, {"providers", providers}};
      auto id = plan::save_plan(db, p, params.dump(), ctx.now());
      ctx.note(fmt::format("saved plan {} ({} sessions) as the active plan", id, p.sessions));
    }
    if (format == "json") {
      ctx.print_json(plan::render_json(p, ctx.zone().name()));
    } else if (format == "ics") {
      std::string s = plan::render_ics(p, ctx.now());
      std::fwrite(s.data(), 1, s.size(), stdout);
    } else if (format == "gantt") {
      std::cout << plan::render_gantt(p, ctx.zone(), terminal_width(), ctx.color());
    } else {
      std::cout << plan::render_table(p, ctx.zone(), ctx.color());
    }
    return 0;
  });
}

} // namespace gpuctl::app
