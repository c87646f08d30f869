// SPDX-License-Identifier: MIT
// gpuctl job submit|list|show|cancel|logs, and gpuctl events.
#include "app.hpp"

#include "gpuctl/core/duration.hpp"
#include "gpuctl/core/error.hpp"
#include "gpuctl/net/interrupt.hpp"
#include "gpuctl/output/json.hpp"
#include "gpuctl/output/table.hpp"
#include "gpuctl/sched/job.hpp"
#include "gpuctl/store/hibernation.hpp"
#include "gpuctl/store/jobs.hpp"

#include <filesystem>
#include <fstream>
#include <iostream>

namespace gpuctl::app {

namespace {

std::int64_t
parse_job_id(const std::string& s)
{
  if (s.empty() || s.size() > 18 || s.find_first_not_of("0123456789") != std::string::npos) {
    throw_usage("expected a job id (a number, see 'gpuctl job list'), got '{}'", s);
  }
  return std::stoll(s);
}

struct JobView {
  store::JobRow job;
  std::string provider;
  std::string output_dir;
  std::optional<std::string> why;
};

std::vector<JobView>
views(Context& ctx, store::Database& db, const std::vector<store::JobRow>& jobs, bool explain)
{
  std::map<std::int64_t, std::string> why;
  if (explain) {
    why = sched::why_queued_all(db, ctx.config(), jobs, ctx.now());
  }
  std::map<std::int64_t, std::string> provider_of;
  for (const auto& w : store::list_workers(db.sql())) {
    provider_of[w.id] = w.provider;
  }
  std::vector<JobView> out;
  out.reserve(jobs.size());
  for (const auto& j : jobs) {
    JobView v{j, "", "", std::nullopt};
    auto spec = sched::spec_from_json_text(j.spec_json);
    v.provider = j.worker_id && provider_of.count(*j.worker_id) ? provider_of[*j.worker_id]
                                                                : spec.provider;
    v.output_dir = sched::job_dir(j, spec, ctx.jobs_root());
    if (auto it = why.find(j.id); it != why.end()) {
      v.why = it->second;
    }
    out.push_back(std::move(v));
  }
  return out;
}

nlohmann::ordered_json
to_json(const JobView& v)
{
  return output::job_json(v.job, v.provider, v.output_dir, v.why);
}

output::Style
state_style(const std::string& s)
{
  if (s == "succeeded") return output::Style::green;
  if (s == "failed" || s == "lost") return output::Style::red;
  if (s == "running" || s == "dispatched") return output::Style::cyan;
  if (s == "cancelled") return output::Style::dim;
  return output::Style::plain;
}

void
render_show(Context& ctx, const JobView& v)
{
  const auto& j = v.job;
  auto opt = [](const std::optional<std::string>& s) { return s ? *s : std::string("-"); };
  std::cout << fmt::format(
      "id            {}\nname          {}\nstate         {}\npriority      {}\nattempts      {} of {}\n"
      "worker        {}\nprovider      {}\nsubmitted     {}\nstarted       {}\nended         {}\n"
      "timeout       {}\nexit code     {}\noutput        {}\n",
      j.id, j.name, output::styled(j.state, state_style(j.state), ctx.color()), j.priority,
      j.attempts, j.max_attempts, opt(j.worker_name), v.provider.empty() ? "-" : v.provider,
      local_or_dash(ctx, j.submitted_at), local_or_dash(ctx, j.started_at),
      local_or_dash(ctx, j.ended_at), j.timeout_s ? format_duration(Seconds{*j.timeout_s}) : "-",
      j.exit_code ? std::to_string(*j.exit_code) : "-", v.output_dir);
  if (v.why) {
    std::cout << "why queued    " << *v.why << '\n';
  }
  if (j.cancel_requested && !j.final()) {
    std::cout << "cancel        requested\n";
  }
}

} // namespace

void
register_job(CLI::App& app, Registry& r)
{
  auto* job = app.add_subcommand("job", "queue GPU jobs; the scheduler runs them on the least-used "
                                        "safe worker\n"
                                        "Example: gpuctl job submit --script train.py --timeout 4h");
  job->require_subcommand(1);
  {
    auto* sub = job->add_subcommand(
        "submit",
        "queue a job and print its id\n"
        "  --command CMD runs CMD with the host's sh; after --, PROG ARG... is an exact argv\n"
        "Example: gpuctl job submit --worker box1 --input data/ -- python train.py --lr 0.1");
    struct Opts {
      std::string script, notebook, command, provider, worker, gpu, name, timeout, input, output,
          accelerator;
      std::vector<std::string> datasets, args;
      int priority = 0, max_attempts = 3;
      bool internet = false;
    };
    auto o = std::make_shared<Opts>();
    auto* o_script = sub->add_option("--script", o->script, "a script file to run")->check(nonempty_arg());
    auto* o_nb = sub->add_option("--notebook", o->notebook, "a Jupyter notebook (Kaggle)")->check(nonempty_arg());
    auto* o_cmd = sub->add_option("--command", o->command, "a shell command line (ssh, vast)")->check(nonempty_arg());
    o_script->excludes(o_nb)->excludes(o_cmd);
    o_nb->excludes(o_cmd);
    sub->add_option("--provider", o->provider, "only on this provider (kaggle, ssh, vast)")->check(nonempty_arg());
    sub->add_option("--worker", o->worker, "only on this worker")->check(nonempty_arg());
    sub->add_option("--gpu", o->gpu, "only on workers with this GPU model")->check(nonempty_arg());
    sub->add_option("--name", o->name, "a name for it (default: the file or program)")->check(nonempty_arg());
    sub->add_option("--priority", o->priority, "higher runs first (default 0)")->check(signed_whole_arg());
    sub->add_option("--max-attempts", o->max_attempts,
                    "dispatches before a job lost again and again fails (default 3)")
        ->check(whole_arg());
    sub->add_option("--timeout", o->timeout, "run limit, e.g. 4h (default: the session's deadline)")
        ->check(nonempty_arg());
    sub->add_option("--input", o->input, "a directory copied up before the run (ssh, vast)")->check(nonempty_arg());
    sub->add_option("--output", o->output,
                    "where its output and log land (default $XDG_DATA_HOME/gpuctl/jobs/ID)")->check(nonempty_arg());
    sub->add_option("--accelerator", o->accelerator, "Kaggle machine shape, e.g. NvidiaTeslaT4")->check(nonempty_arg());
    sub->add_option("--dataset", o->datasets, "Kaggle: a dataset OWNER/SLUG to attach (repeatable)");
    sub->add_flag("--internet", o->internet, "Kaggle: give the run internet access");
    sub->add_option("args", o->args, "after --: the program and its arguments, or the script's");
    r.on(sub, [=](Context& ctx) {
      sched::SubmitRequest req;
      auto& s = req.spec;
      if (!o->script.empty()) {
        s.kind = "script";
        s.file = o->script;
        s.argv = o->args;
      } else if (!o->notebook.empty()) {
        s.kind = "notebook";
        s.file = o->notebook;
        if (!o->args.empty()) {
          throw_usage("a notebook takes no arguments");
        }
      } else if (!o->command.empty()) {
        if (!o->args.empty()) {
          throw_usage("give either --command CMD (a shell command line) or -- PROG ARG..., not both");
        }
        s.kind = "command";
        s.argv = {"sh", "-c", o->command};
      } else {
        s.kind = "command";
        s.argv = o->args;
      }
      s.provider = o->provider;
      s.worker = o->worker;
      s.gpu = o->gpu;
      s.input_dir = o->input;
      s.output_dir = o->output;
      s.accelerator = o->accelerator;
      s.datasets = o->datasets;
      s.internet = o->internet;
      req.name = o->name;
      req.priority = o->priority;
      req.max_attempts = o->max_attempts;
      if (!o->timeout.empty()) {
        req.timeout_s = parse_duration(o->timeout, "--timeout").count();
      }
      auto db = ctx.open(store::Access::write);
      auto j = sched::submit(db, req, ctx.jobs_root(), ctx.now());
      if (ctx.json()) {
        auto v = views(ctx, db, {j}, false);
        ctx.print_json(to_json(v.front()));
      } else {
        std::cout << j.id << '\n';
        ctx.note(fmt::format("queued job {} ({}); 'gpuctl schedule --once' dispatches it", j.id,
                             j.name));
      }
      return 0;
    });
  }
  {
    auto* sub = job->add_subcommand("list", "list jobs, newest first\nExample: gpuctl job list --state queued");
    auto state = std::make_shared<std::string>();
    sub->add_option("--state", *state,
                    "queued, dispatched, running, succeeded, failed, cancelled or lost");
    r.on(sub, [=](Context& ctx) {
      static const std::set<std::string> states = {"",       "queued",    "dispatched", "running",
                                                    "succeeded", "failed", "cancelled",  "lost"};
      if (!states.count(*state)) {
        throw_usage("unknown --state '{}' (queued, dispatched, running, succeeded, failed, "
                    "cancelled, lost)",
                    *state);
      }
      auto db = ctx.open(store::Access::read);
      auto vs = views(ctx, db, store::list_jobs(db.sql(), *state), ctx.json());
      if (ctx.json()) {
        ctx.print_json_array(vs, [](const JobView& v) { return to_json(v); });
        return 0;
      }
      output::Table t({"ID", "NAME", "STATE", "WORKER", "ATTEMPTS", "SUBMITTED", "ENDED"});
      t.align_right(0);
      for (const auto& v : vs) {
        const auto& j = v.job;
        t.add({std::to_string(j.id), j.name, j.state, j.worker_name.value_or("-"),
               fmt::format("{}/{}", j.attempts, j.max_attempts), local_or_dash(ctx, j.submitted_at),
               local_or_dash(ctx, j.ended_at)},
              {output::Style::plain, output::Style::plain, state_style(j.state)});
      }
      if (t.empty()) {
        ctx.note("no jobs");
      } else {
        std::cout << t.render(ctx.color());
      }
      return 0;
    });
  }
  {
    auto* sub = job->add_subcommand("show", "show one job, and why it is still queued\n"
                                            "Example: gpuctl job show 12");
    auto id = std::make_shared<std::string>();
    sub->add_option("id", *id, "job id")->required();
    r.on(sub, [=](Context& ctx) {
      auto n = parse_job_id(*id);
      auto db = ctx.open(store::Access::read);
      auto vs = views(ctx, db, {store::require_job(db.sql(), n)}, true);
      if (ctx.json()) {
        ctx.print_json(to_json(vs.front()));
      } else {
        render_show(ctx, vs.front());
      }
      return 0;
    });
  }
  {
    auto* sub = job->add_subcommand("cancel", "cancel a job (a running Kaggle run cannot be stopped)\n"
                                              "Example: gpuctl job cancel 12");
    auto id = std::make_shared<std::string>();
    sub->add_option("id", *id, "job id")->required();
    r.on(sub, [=](Context& ctx) {
      auto n = parse_job_id(*id);
      auto db = ctx.open(store::Access::write_existing);
      auto res = sched::cancel(db, n, ctx.now());
      if (res.already) {
        ctx.note(fmt::format("job {}: cancel already requested", n));
      } else if (res.runs_on) {
        ctx.warn(fmt::format("job {} runs on Kaggle, which cannot stop a run: it runs until it "
                             "ends or reaches its session timeout; gpuctl marks it cancelled then",
                             n));
      }
      if (ctx.json()) {
        auto vs = views(ctx, db, {store::require_job(db.sql(), n)}, false);
        ctx.print_json(to_json(vs.front()));
      } else if (res.already) {
      } else if (res.stop_requested) {
        ctx.note(fmt::format("job {}: stop requested; the next tick stops the run", n));
      } else if (!res.runs_on) {
        ctx.note(fmt::format("cancelled job {}", n));
      }
      return 0;
    });
  }
  {
    auto* sub = job->add_subcommand("logs", "print a job's log\nExample: gpuctl job logs 12");
    auto id = std::make_shared<std::string>();
    auto follow = std::make_shared<bool>(false);
    sub->add_option("id", *id, "job id")->required();
    sub->add_flag("-f,--follow", *follow, "keep printing until the job ends");
    r.on(sub, [=](Context& ctx) {
      auto n = parse_job_id(*id);
      if (*follow) {
        net::install_interrupt_handlers(); // Ctrl-C ends the wait, not the process mid-write
      }
      std::int64_t printed = 0;
      auto print = [&](const std::string& chunk) {
        std::cout << chunk << std::flush;
        printed += static_cast<std::int64_t>(chunk.size());
      };
      std::optional<store::Database> wdb; // the back ends' own handle (pacing, credentials)
      std::unique_ptr<JobBackends> backends;
      for (;;) {
        auto db = ctx.open(store::Access::read);
        auto j = store::require_job(db.sql(), n);
        auto spec = sched::spec_from_json_text(j.spec_json);
        if (j.final()) {
          std::string path = sched::job_dir(j, spec, ctx.jobs_root()) + "/log";
          std::ifstream in(path, std::ios::binary);
          if (!in) {
            if (printed == 0) {
              ctx.note(fmt::format("job {} ({}) left no log", n, j.state));
            }
            return 0;
          }
          in.seekg(printed);
          print(std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>()));
          return 0;
        }
        if (j.state == "queued") {
          if (!*follow) {
            ctx.note(fmt::format("job {} is queued: no log yet (--follow waits for it)", n));
            return 0;
          }
        } else if (j.worker_id && j.dispatch_key) {
          // Running: the log so far, from the provider.
          std::optional<store::WorkerRow> w;
          for (auto& row : store::list_workers(db.sql())) {
            if (row.id == *j.worker_id) {
              w = row;
            }
          }
          if (w) {
            auto account = store::require_account(db.sql(), w->account);
            if (!backends) {
              wdb.emplace(ctx.open(store::Access::write_existing));
              backends = std::make_unique<JobBackends>(ctx, *wdb);
            }
            auto map = backends->map();
            if (auto it = map.find(w->provider); it != map.end()) {
              sched::RunContext rc{j, spec, *w, account, *j.dispatch_key, j.timeout_s.value_or(0)};
              print(it->second->log(rc, printed));
            }
          }
        }
        if (!*follow) {
          return 0;
        }
        try {
          net::SignalSleeper sleeper;
          sleeper.sleep(std::chrono::seconds(2));
        } catch (const Error& e) {
          if (e.kind() != ErrorKind::interrupted) {
            throw;
          }
        }
        if (net::interrupted()) {
          return 130;
        }
      }
    });
  }
}

void
register_events(CLI::App& app, Registry& r)
{
  auto* sub = app.add_subcommand("events", "what gpuctl did automatically, and why\n"
                                           "Example: gpuctl events --since -1d --json");
  struct Opts {
    std::string since, type, job, worker, older_than;
  };
  auto o = std::make_shared<Opts>();
  sub->add_option("--since", o->since, "only events at or after this time")->check(nonempty_arg());
  sub->add_option("--type", o->type, "only events of this type, e.g. job.dispatch");
  sub->add_option("--job", o->job, "only events about this job");
  sub->add_option("--worker", o->worker, "only events about this worker");
  auto* prune = sub->add_subcommand("prune", "delete old events\nExample: gpuctl events prune --older-than 30d");
  prune->add_option("--older-than", o->older_than, "delete events older than this duration")->required();
  r.on(sub, [=](Context& ctx) {
    if (prune->parsed()) {
      Seconds age = parse_duration(o->older_than, "--older-than");
      auto db = ctx.open(store::Access::write_existing);
      int n = db.write([&] { return store::prune_events(db.sql(), ctx.now() - age); });
      if (ctx.json()) {
        ctx.print_json({{"deleted", n}});
      } else {
        ctx.note(fmt::format("deleted {} event{} older than {}", n, n == 1 ? "" : "s",
                             format_duration(age)));
      }
      return 0;
    }
    std::optional<Instant> since;
    if (!o->since.empty()) {
      since = parse_time(o->since, ctx.now(), ctx.zone(), "--since");
    }
    std::optional<std::int64_t> job;
    if (!o->job.empty()) {
      job = parse_job_id(o->job);
    }
    auto db = ctx.open(store::Access::read);
    auto events = store::list_events(db.sql(), since, o->type, job);
    if (!o->worker.empty()) {
      // A removed worker is still found by the name its events recorded; a name no worker and
      // no event has is a mistake.
      if (!store::find_worker(db.sql(), o->worker) &&
          std::none_of(events.begin(), events.end(),
                       [&](const store::EventRow& e) { return e.worker == o->worker; })) {
        store::require_worker(db.sql(), o->worker);
      }
      std::erase_if(events, [&](const store::EventRow& e) { return e.worker != o->worker; });
    }
    if (ctx.json()) {
      ctx.print_json_array(events, [](const store::EventRow& e) { return output::event_json(e); });
      return 0;
    }
    output::Table t({"AT", "TYPE", "WORKER", "JOB", "REASON"});
    for (const auto& e : events) {
      t.add({ctx.zone().format(e.at), e.type, e.worker.value_or("-"),
             e.job_id ? std::to_string(*e.job_id) : "-", e.reason});
    }
    if (t.empty()) {
      ctx.note("no events");
    } else {
      std::cout << t.render(ctx.color());
    }
    return 0;
  });
}

} // namespace gpuctl::app
