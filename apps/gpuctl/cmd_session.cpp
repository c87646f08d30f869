// SPDX-License-Identifier: MIT
#include "app.hpp"

#include "gpuctl/core/error.hpp"
#include "gpuctl/core/time.hpp"

#include <algorithm>
#include "gpuctl/output/json.hpp"
#include "gpuctl/output/table.hpp"
#include "gpuctl/quota/service.hpp"

#include <iostream>

namespace gpuctl::app {

std::string when_with_relative(Context& ctx, Instant t);

namespace {

Instant
time_arg(Context& ctx, const std::string& text, const char* flag)
{
  return parse_time(text, ctx.now(), ctx.zone(), flag);
}

void
print_session(Context& ctx, const store::SessionRow& s, std::optional<Instant> deadline)
{
  if (ctx.json()) {
    ctx.print_json(output::session_json(s, deadline, ctx.now()));
  }
}

std::optional<Instant>
deadline_of(Context& ctx, store::Database& db, std::int64_t id)
{
  auto all = quota::open_session_deadlines(db, ctx.config(), ctx.now());
  auto it = all.find(id);
  return it == all.end() ? std::nullopt : it->second.deadline;
}

} // namespace

void
register_session(CLI::App& app, Registry& r)
{
  auto* session = app.add_subcommand("session", "record GPU sessions (the quota ledger)\n"
                                                "Example: gpuctl session start c1");
  session->require_subcommand(1);
  {
    auto* sub = session->add_subcommand(
        "start", "a session starts on a worker now (or --at)\n"
                 "Example: gpuctl session start c1 --at 08:00");
    auto worker = std::make_shared<std::string>();
    auto at = std::make_shared<std::string>("now");
    sub->add_option("worker", *worker, "worker name")->required();
    sub->add_option("--at", *at, "when it started (default now)");
    r.on(sub, [=](Context& ctx) {
      Instant t = time_arg(ctx, *at, "--at");
      auto db = ctx.open(store::Access::write_existing);
      auto s = quota::start_session(db, ctx.config(), *worker, t, ctx.now());
      auto deadline = deadline_of(ctx, db, s.id);
      print_session(ctx, s, deadline);
      ctx.note(fmt::format("session {} started on {} ({}){}", s.id, s.worker, s.account,
                           deadline ? ", stop by " + when_with_relative(ctx, *deadline) : ""));
      return 0;
    });
  }
  {
    auto* sub = session->add_subcommand(
        "stop", "the worker's open session ends now (or --at)\n"
                "Example: gpuctl session stop c1 --reason done");
    auto worker = std::make_shared<std::string>();
    auto at = std::make_shared<std::string>("now");
    auto reason = std::make_shared<std::string>("stopped");
    sub->add_option("worker", *worker, "worker name")->required();
    sub->add_option("--at", *at, "when it ended (default now)");
    sub->add_option("--reason", *reason, "why it ended (default 'stopped')");
    r.on(sub, [=](Context& ctx) {
      Instant t = time_arg(ctx, *at, "--at");
      if (reason->empty() || reason->size() > 200 ||
          std::any_of(reason->begin(), reason->end(), [](unsigned char c) { return c < 0x20 || c == 0x7f; })) {
        throw_usage("invalid --reason: 1-200 printable characters");
      }
      auto db = ctx.open(store::Access::write_existing);
      auto s = quota::stop_session(db, *worker, t, *reason, ctx.now());
      print_session(ctx, s, std::nullopt);
      ctx.note(fmt::format("session {} on {} stopped after {}", s.id, s.worker,
                           human_duration(*s.ended_at - s.started_at)));
      return 0;
    });
  }
  {
    auto* sub = session->add_subcommand(
        "add", "record a past session, e.g. one run by hand\n"
               "Example: gpuctl session add k1 --start '2026-11-28 08:00' --end '2026-11-28 17:00'");
    auto worker = std::make_shared<std::string>();
    auto start = std::make_shared<std::string>();
    auto end = std::make_shared<std::string>();
    sub->add_option("worker", *worker, "worker name")->required();
    sub->add_option("--start", *start, "when it started")->required();
    sub->add_option("--end", *end, "when it ended")->required();
    r.on(sub, [=](Context& ctx) {
      Instant s0 = time_arg(ctx, *start, "--start");
      Instant e0 = time_arg(ctx, *end, "--end");
      auto db = ctx.open(store::Access::write_existing);
      auto s = quota::add_session(db, ctx.config(), *worker, s0, e0, ctx.now());
      print_session(ctx, s, std::nullopt);
      ctx.note(fmt::format("recorded session {} on {} ({})", s.id, s.worker,
                           human_duration(*s.ended_at - s.started_at)));
      return 0;
    });
  }
  {
    auto* sub = session->add_subcommand("list", "sessions, newest first\n"
                                                "Example: gpuctl session list --since -7d --json");
    auto filter = std::make_shared<store::SessionFilter>();
    auto since = std::make_shared<std::string>();
    sub->add_option("--worker", filter->worker, "only this worker's sessions");
    auto* o_since = sub->add_option("--since", *since, "only sessions running at or after this time");
    r.on(sub, [=](Context& ctx) {
      if (o_since->count() > 0) {
        filter->since = time_arg(ctx, *since, "--since");
      }
      auto db = ctx.open(store::Access::read);
      auto sessions = quota::list_sessions(db, ctx.config(), *filter, ctx.now());
      if (ctx.json()) {
        ctx.print_json_array(sessions, [&](const quota::SessionView& v) {
          return output::session_json(v.session, v.deadline, ctx.now());
        });
        return 0;
      }
      output::Table t({"ID", "WORKER", "ACCOUNT", "STARTED", "ENDED", "DURATION", "REASON", "DEADLINE"});
      t.align_right(0);
      t.align_right(5);
      for (const auto& v : sessions) {
        const auto& s = v.session;
        Instant end = s.ended_at ? *s.ended_at : ctx.now();
        t.add({std::to_string(s.id), s.worker, s.account, ctx.zone().format(s.started_at),
               s.ended_at ? ctx.zone().format(*s.ended_at) : "running",
               human_duration(end - s.started_at), s.end_reason.value_or("-"),
               v.deadline ? ctx.zone().format(*v.deadline) : "-"});
      }
      if (t.empty()) {
        ctx.note("no sessions recorded");
        return 0;
      }
      std::cout << t.render(ctx.color());
      return 0;
    });
  }
}

} // namespace gpuctl::app
