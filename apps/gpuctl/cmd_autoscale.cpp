// SPDX-License-Identifier: MIT
// `gpuctl autoscale`: parses its flags over `[autoscale]`, runs autoscale::tick once or in a
// loop, and renders what each tick did. `schedule --once|--watch --autoscale` calls
// autoscale_once from its own loop.
#include "app.hpp"

#include "gpuctl/autoscale/autoscale.hpp"
#include "gpuctl/core/duration.hpp"
#include "gpuctl/core/file_lock.hpp"
#include "gpuctl/net/interrupt.hpp"
#include "gpuctl/output/json.hpp"
#include "gpuctl/providers/dask/client.hpp"

#include <filesystem>
#include <iostream>

namespace gpuctl::app {

namespace {

nlohmann::ordered_json
report_json(const autoscale::Report& rep, const autoscale::Params& p, Instant at, bool dry_run)
{
  using oj = nlohmann::ordered_json;
  const auto& d = rep.decision;
  oj steps = oj::array();
  for (const auto& s : rep.steps) {
    steps.push_back({{"type", s.type},
                     {"worker", s.worker.empty() ? oj(nullptr) : oj(s.worker)},
                     {"reason", s.reason}});
  }
  return {{"at", output::instant_json(at)},
          {"dry_run", dry_run},
          {"dask",
           {{"target", rep.demand.target},
            {"unrunnable", rep.demand.unrunnable},
            {"num_workers", rep.demand.num_workers}}},
          {"decision",
           {{"others", d.others},
            {"joined", d.joined},
            {"booting", d.booting},
            {"want", d.want},
            {"desired", d.desired},
            {"start", d.start},
            {"retire", d.retire},
            {"low_since", output::instant_json(d.low_since)},
            {"min", p.min},
            {"max", p.max},
            {"step_up", p.step_up},
            {"scale_down_after_s", p.scale_down_after.count()}}},
          {"steps", steps},
          {"warnings", rep.warnings},
          {"errors", rep.errors}};
}

} // namespace

bool
autoscale_once(Context& ctx, store::Database& db, JobBackends& backends,
               const autoscale::Settings& s, bool refresh, bool dry_run,
               nlohmann::ordered_json* json_out)
{
  autoscale::Env env{db, ctx.cloud(), backends.ssh_hooks(), refresh, dry_run};
  autoscale::Report rep;
  auto emit = [&](nlohmann::ordered_json j) {
    if (json_out) {
      *json_out = std::move(j);
    } else {
      ctx.print_json(j);
    }
  };
  try {
    rep = autoscale::tick(env, s);
  } catch (const Error& e) {
    if (e.kind() == ErrorKind::interrupted) {
      throw;
    }
    // Dask unreachable, its API off, an answer that makes no sense: the tick stopped where it
    // was (before any change when Dask could not be read) and the next one starts afresh.
    ctx.flush_warnings();
    auto* un = dynamic_cast<const providers::dask::Unavailable*>(&e);
    if (ctx.json()) {
      emit({{"at", output::instant_json(ctx.now())},
            {"dry_run", dry_run},
            {"error", e.what()},
            {"api_off", un && un->api_off()}});
    }
    std::cerr << "gpuctl: error: " << e.what() << "\n";
    return false;
  }
  ctx.flush_warnings();
  for (const auto& w : rep.warnings) {
    ctx.warn(w);
  }
  if (ctx.json()) {
    emit(report_json(rep, s.params, ctx.now(), dry_run));
  } else if (!ctx.globals().quiet) {
    std::string when = ctx.zone().format(ctx.now());
    std::cout << fmt::format("{}  autoscale  {}\n", when, rep.decision.why);
    for (const auto& st : rep.steps) {
      std::cout << fmt::format("{}  {}{}  {}  {}\n", when, dry_run ? "would " : "", st.type,
                               st.worker.empty() ? "-" : st.worker, st.reason);
    }
  }
  for (const auto& e : rep.errors) {
    std::cerr << "gpuctl: error: " << e << "\n";
  }
  return rep.errors.empty();
}

void
register_autoscale(CLI::App& app, Registry& r)
{
  auto* sub = app.add_subcommand(
      "autoscale",
      "size a Dask cluster from Dask's own demand: wake, borrow or rent GPU workers, retire and "
      "hibernate idle ones\nExample: gpuctl autoscale --dask http://127.0.0.1:8787 --max 4 --watch");
  struct Opts {
    std::string dask, scheduler, scale_down_after, pool, account, tick;
    std::optional<int> min, max, step_up;
    bool once = false, watch = false, dry_run = false;
  };
  auto o = std::make_shared<Opts>();
  sub->add_option("--dask", o->dask, "the scheduler's HTTP API, http://HOST:8787 ([autoscale] dask_url)")
      ->check(nonempty_arg());
  sub->add_option("--scheduler", o->scheduler,
                  "what workers connect to, tcp://HOST:8786 (default: the --dask host, port 8786)")
      ->check(nonempty_arg());
  sub->add_option("--min", o->min, "fewest GPU workers gpuctl keeps in the cluster")->check(whole_arg());
  sub->add_option("--max", o->max, "most GPU workers gpuctl runs for Dask")->check(whole_arg());
  sub->add_option("--step-up", o->step_up, "most workers started in one tick")->check(whole_arg());
  sub->add_option("--scale-down-after", o->scale_down_after,
                  "retire only after the demand stayed low this long (e.g. 10m)")
      ->check(nonempty_arg());
  sub->add_option("--pool", o->pool, "where workers come from: vast | ssh | both")->check(nonempty_arg());
  sub->add_option("--account", o->account, "vast account to rent on (default: the only one)")
      ->check(nonempty_arg());
  auto* o_once = sub->add_flag("--once", o->once, "run one tick (the default; for cron)");
  auto* o_watch = sub->add_flag("--watch", o->watch, "run ticks until SIGINT/SIGTERM");
  o_once->excludes(o_watch);
  sub->add_option("--tick", o->tick, "--watch: time between ticks (default scheduler.tick)")
      ->check(nonempty_arg())
      ->excludes(o_once);
  sub->add_flag("--dry-run", o->dry_run, "read Dask and decide; start, retire and write nothing");
  r.on(sub, [=](Context& ctx) {
    auto s = autoscale::settings_from(ctx.config());
    if (!o->dask.empty()) s.dask_url = o->dask;
    if (!o->scheduler.empty()) s.scheduler = o->scheduler;
    if (o->min) s.params.min = *o->min;
    if (o->max) s.params.max = *o->max;
    if (o->step_up) s.params.step_up = *o->step_up;
    if (!o->scale_down_after.empty()) {
      s.params.scale_down_after = parse_duration(o->scale_down_after, "--scale-down-after");
    }
    if (!o->pool.empty()) s.pool = o->pool;
    if (!o->account.empty()) s.account = o->account;
    autoscale::validate(s);
    Seconds every = o->tick.empty() ? ctx.config().get_duration("scheduler.tick")
                                    : parse_duration(o->tick, "--tick");
    if (every < Seconds{1}) {
      throw_usage("--tick must be at least 1s");
    }
    // An existing state file only: without one there is nothing to scale (and a dead scheduler
    // must leave no file behind).
    auto db = ctx.open(o->dry_run ? store::Access::read : store::Access::write_existing);
    std::optional<FileLock> lock;
    if (!o->dry_run && std::filesystem::exists(ctx.db_path())) {
      lock.emplace(ctx.db_path() + ".autoscale.lock",
                   "another autoscaler is running on this state file");
    }
    net::install_interrupt_handlers();
    JobBackends backends(ctx, db);
    for (;;) {
      bool ok = autoscale_once(ctx, db, backends, s, true, o->dry_run, nullptr);
      if (!o->watch) {
        return net::interrupted() ? 130 : ok ? 0 : 3;
      }
      if (net::interrupted() || !sleep_between_ticks(every)) {
        return 0;
      }
    }
  });
}

} // namespace gpuctl::app
