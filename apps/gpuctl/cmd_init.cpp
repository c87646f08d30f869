// SPDX-License-Identifier: MIT
#include "app.hpp"

#include "gpuctl/output/json.hpp"
#include "gpuctl/core/error.hpp"
#include "gpuctl/output/table.hpp"
#include "gpuctl/plan/plan.hpp"
#include "gpuctl/store/jobs.hpp"
#include "gpuctl/store/registry.hpp"

#include <iostream>
#include <sys/stat.h>

namespace gpuctl::app {

namespace {

bool
exists(const std::string& p)
{
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0;
}

} // namespace

void
register_init(CLI::App& app, Registry& r)
{
  auto* init = app.add_subcommand("init", "create the state file (harmless when it exists)\n"
                                          "Example: gpuctl init");
  r.on(init, [](Context& ctx) {
    bool existed = exists(ctx.db_path());
    auto db = ctx.open(store::Access::write);
    int version = store::schema_version(db.sql());
    if (ctx.json()) {
      ctx.print_json({{"db", ctx.db_path()}, {"schema_version", version}, {"created", !existed}});
    } else if (!ctx.globals().quiet) {
      std::cout << (existed ? "state file ready: " : "created state file: ") << ctx.db_path()
                << " (schema " << version << ")\n";
    }
    return 0;
  });
}

void
register_complete(CLI::App& app, Registry& r)
{
  // Hidden: dynamic values for the shell completions, one per line; a line may carry a
  // description after a tab ("3\ttrain.py (queued)": fish and zsh show it, bash drops it). Names
  // and ids come from the state file opened read-only (a missing file answers nothing, and is
  // not created); zones from the time-zone database --tz uses; strategies from the planner.
  auto* sub = app.add_subcommand("__complete", "values for shell completion");
  sub->group("");
  auto kind = std::make_shared<std::string>();
  sub->add_option("kind", *kind, "accounts | workers | jobs | providers | strategies | zones")
      ->required();
  r.on(sub, [=](Context& ctx) {
    std::string out;
    if (*kind == "providers") {
      for (std::string_view p : provider_names()) {
        out += std::string(p) + "\n";
      }
    } else if (*kind == "strategies") {
      for (plan::Strategy s : plan::all_strategies()) {
        out += std::string(plan::to_string(s)) + "\n";
      }
    } else if (*kind == "zones") {
      for (const auto& z : zone_names()) {
        out += z + "\n";
      }
    } else if (*kind == "accounts" || *kind == "workers" || *kind == "jobs") {
      if (!exists(ctx.db_path())) {
        return 0; // no state file: nothing to offer (and nothing to create or migrate)
      }
      auto db = ctx.open(store::Access::read);
      if (*kind != "jobs") {
        for (const auto& n : store::names(db.sql(), *kind)) {
          out += n + "\n";
        }
      } else {
        for (const auto& j : store::list_jobs(db.sql())) {
          std::string desc = j.name + " (" + j.state + ")";
          for (char& c : desc) {
            c = (c == '\t' || c == '\n') ? ' ' : c; // one line, one tab
          }
          out += std::to_string(j.id) + "\t" + desc + "\n";
        }
      }
    } else {
      throw Error(ErrorKind::usage, "unknown completion kind '" + *kind + "'");
    }
    std::fwrite(out.data(), 1, out.size(), stdout);
    return 0;
  });
}

void
register_config(CLI::App& app, Registry& r)
{
  auto* config = app.add_subcommand("config", "show the effective configuration and its paths\n"
                                              "Example: gpuctl config show");
  config->require_subcommand(1);
  auto* show = config->add_subcommand("show", "every key with its value and where it came from\n"
                                              "Example: gpuctl config show --json");
  r.on(show, [](Context& ctx) {
    const auto& cfg = ctx.config();
    if (ctx.json()) {
      ctx.print_json(output::config_json(cfg));
      return 0;
    }
    output::Table t({"KEY", "VALUE", "SOURCE"});
    for (const auto& e : cfg.entries()) {
      std::string v = config::value_text(e.value);
      if (std::holds_alternative<std::string>(e.value)) {
        v = "\"" + v + "\"";
      }
      t.add({std::string(e.spec->name), v, std::string(config::to_string(e.source))},
            {output::Style::plain, output::Style::plain,
             e.source == config::Source::default_value ? output::Style::dim
                                                       : output::Style::cyan});
    }
    std::cout << t.render(ctx.color());
    return 0;
  });
  auto* path = config->add_subcommand("path", "the config and state file paths in use\n"
                                              "Example: gpuctl config path");
  r.on(path, [](Context& ctx) {
    bool cfg_found = ctx.config().file_found();
    bool db_found = exists(ctx.db_path());
    if (ctx.json()) {
      ctx.print_json({{"config", ctx.config_path()},
                      {"config_exists", cfg_found},
                      {"db", ctx.db_path()},
                      {"db_exists", db_found}});
      return 0;
    }
    std::cout << "config  " << ctx.config_path() << (cfg_found ? "" : "  (not found: defaults)")
              << "\nstate   " << ctx.db_path() << (db_found ? "" : "  (not created yet)") << "\n";
    return 0;
  });
}

} // namespace gpuctl::app
