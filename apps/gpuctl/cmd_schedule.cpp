// SPDX-License-Identifier: MIT
#include "app.hpp"

#include "gpuctl/core/error.hpp"
#include "gpuctl/plan/input.hpp"
#include "gpuctl/plan/render.hpp"
#include "gpuctl/plan/save.hpp"

#include <cstdio>
#include <iostream>
#include <sys/ioctl.h>
#include <unistd.h>

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

} // namespace

void
register_schedule(CLI::App& app, Registry& r)
{
  auto* sub = app.add_subcommand(
      "schedule", "plan sessions over the coming days within every quota\n"
                  "Example: gpuctl schedule --strategy 24x7 --format gantt");
  struct Opts {
    std::string strategy, from = "now", format = "table", providers;
    int days = 7, keep = 0;
    bool save = false;
  };
  auto o = std::make_shared<Opts>();
  sub->add_option("--strategy", o->strategy, "24x7 | burst | economy")->required();
  sub->add_option("--from", o->from, "start of the horizon (default now)");
  sub->add_option("--days", o->days, "length of the horizon in days (default 7)")->check(whole_arg());
  sub->add_option("--keep", o->keep, "economy: GPUs to keep online")->check(whole_arg());
  sub->add_option("--format", o->format, "table | gantt | json | ics (default table)");
  sub->add_option("--providers", o->providers, "only these providers, comma-separated");
  sub->add_flag("--save", o->save, "store the plan as the active one (the scheduler follows it)");
  r.on(sub, [=](Context& ctx) {
    std::string format = ctx.json() ? "json" : o->format;
    if (format != "table" && format != "gantt" && format != "json" && format != "ics") {
      throw_usage("unknown --format '{}' (expected table, gantt, json or ics)", format);
    }
    plan::Strategy strategy = plan::parse_strategy(o->strategy);
    if (strategy != plan::Strategy::economy && o->keep != 0) {
      throw_usage("--keep applies to --strategy economy only");
    }
    std::vector<std::string> providers;
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
