// SPDX-License-Identifier: MIT
// gpuctl: argv → CLI11 → one command; gpuctl::Error → one line on stderr + its exit code.
#include "app.hpp"

#include "gpuctl/core/error.hpp"
#include "gpuctl/core/names.hpp"
#include "gpuctl/store/state_error.hpp"

#include <cstdio>
#include <cstring>
#include <iostream>

#ifndef GPUCTL_VERSION
#define GPUCTL_VERSION "0.0.0"
#endif

namespace {

int
fail(const std::string& message, int code)
{
  // One line, and nothing a terminal would interpret: control characters are shown escaped.
  std::string safe;
  for (unsigned char c : message) {
    if (c < 0x20 || c == 0x7f) {
      safe += fmt::format("\\x{:02x}", c);
    } else {
      safe += static_cast<char>(c);
    }
  }
  std::string line = "gpuctl: error: " + safe + "\n";
  std::fwrite(line.data(), 1, line.size(), stderr);
  return code;
}

// Rewrites CLI11's "The following arguments were not expected: foo" into a message that names
// the unknown command and suggests the closest one.
std::string
explain_extras(const CLI::App& app, const CLI::ParseError& e)
{
  const CLI::App* leaf = &app;
  for (;;) {
    auto subs = leaf->get_subcommands();
    if (subs.empty()) {
      break;
    }
    leaf = subs.front();
  }
  auto remaining = app.remaining(true);
  if (remaining.empty()) {
    return e.what();
  }
  const std::string& word = remaining.front();
  std::vector<std::string> names;
  for (const CLI::App* s : leaf->get_subcommands({})) {
    names.push_back(s->get_name());
  }
  if (names.empty() || word.starts_with("-")) {
    return fmt::format("unexpected argument '{}' for '{}'", word,
                       leaf == &app ? "gpuctl" : leaf->get_name());
  }
  std::vector<std::string_view> views(names.begin(), names.end());
  std::string hint = gpuctl::did_you_mean(word, views);
  return fmt::format("unknown command '{}'{}", word,
                     hint.empty() ? fmt::format(" (see 'gpuctl {}--help')",
                                                leaf == &app ? "" : leaf->get_name() + " ")
                                  : fmt::format(": did you mean '{}'?", hint));
}

} // namespace

int
main(int argc, char** argv)
{
  // Fast path: `gpuctl --version` / `gpuctl version` need nothing but this line.
  if (argc == 2 && (std::strcmp(argv[1], "--version") == 0 || std::strcmp(argv[1], "version") == 0)) {
    std::fputs("gpuctl " GPUCTL_VERSION "\n", stdout);
    return 0;
  }

  using namespace gpuctl;
  CLI::App app{"gpuctl: run ML work on GPUs you do not own: Kaggle, Colab, vast.ai and ssh boxes,\n"
               "within every quota and budget.\n\n"
               "Example:\n  gpuctl account add alice --provider kaggle\n"
               "  gpuctl worker add k1 --account alice --gpu T4\n  gpuctl status",
               "gpuctl"};
  app.fallthrough();
  app.require_subcommand(1);
  app.set_version_flag("--version", "gpuctl " GPUCTL_VERSION);
  app.footer("Exit status: 0 ok, 1 failure reported, 2 usage or invalid input, 3 provider or\n"
             "network error, 4 state conflict or limit, 130 interrupted. See gpuctl(1).");

  app::Registry reg;
  auto& g = reg.globals;
  app.add_option("--db", g.db, "state file (default $XDG_STATE_HOME/gpuctl/state.db; env GPUCTL_DB)");
  app.add_option("--config", g.config,
                 "config file (default $XDG_CONFIG_HOME/gpuctl/config.toml; env GPUCTL_CONFIG)");
  app.add_flag("--json", g.json, "print one JSON document on stdout");
  app.add_flag("-q,--quiet", g.quiet, "no confirmation messages");
  app.add_flag("--no-color", g.no_color, "no colour (also NO_COLOR)");
  app.add_option("--tz", g.tz, "display time zone (IANA name)");
  app.add_flag("-v,--verbose", g.verbose, "log provider calls on stderr (secrets redacted)");

  auto* version = app.add_subcommand("version", "print the version\nExample: gpuctl version --json");
  reg.on(version, [](app::Context& ctx) {
    if (ctx.json()) {
      ctx.print_json({{"version", GPUCTL_VERSION}});
    } else {
      std::puts("gpuctl " GPUCTL_VERSION);
    }
    return 0;
  });
  // The command groups, in help order. Building every option of every command costs about as
  // much as a whole `worker list`, so when argv names a group only that one is built; anything
  // else (help, a typo that wants "did you mean") builds them all.
  using Register = void (*)(CLI::App&, app::Registry&);
  static const std::pair<const char*, Register> groups[] = {
      {"init", app::register_init},         {"__complete", app::register_complete},
      {"config", app::register_config},     {"account", app::register_account},
      {"worker", app::register_worker},     {"session", app::register_session},
      {"quota", app::register_quota},       {"schedule", app::register_schedule},
      {"status", app::register_status},     {"offers", app::register_offers},
      {"job", app::register_job},           {"events", app::register_events},
      {"hibernate", app::register_hibernate}, {"hibernate-sweep", app::register_hibernate_sweep},
      {"wake", app::register_wake},         {"autoscale", app::register_autoscale},
      {"completion", app::register_completion},
  };
  const char* word = nullptr;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "--db" || a == "--config" || a == "--tz") {
      ++i; // the option's value
    } else if (!a.starts_with("-")) {
      word = argv[i];
      break;
    }
  }
  bool known = false;
  for (const auto& [name, add] : groups) {
    known = known || (word != nullptr && std::strcmp(word, name) == 0);
  }
  for (const auto& [name, add] : groups) {
    if (!known || std::strcmp(word, name) == 0) {
      add(app, reg);
    }
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ExtrasError& e) {
    return fail(explain_extras(app, e), 2);
  } catch (const CLI::RequiredError& e) {
    if (app.get_subcommands().empty() ||
        std::string(e.what()).find("subcommand") != std::string::npos) {
      std::string explained = explain_extras(app, e);
      if (explained != e.what()) {
        return fail(explained, 2);
      }
      const CLI::App* leaf = &app;
      while (!leaf->get_subcommands().empty()) {
        leaf = leaf->get_subcommands().front();
      }
      return fail(fmt::format("missing command (see 'gpuctl {}--help')",
                              leaf == &app ? "" : leaf->get_name() + " "),
                  2);
    }
    return fail(e.what(), 2);
  } catch (const CLI::ParseError& e) {
    return fail(e.what(), 2);
  } catch (const Error& e) {
    return fail(e.what(), e.exit_code());
  }
  if (reg.selected_plain) {
    int rc = reg.selected_plain();
    std::fflush(stdout);
    return rc;
  }
  if (!reg.selected) {
    return fail("missing command (see 'gpuctl --help')", 2);
  }
  std::optional<app::Context> ctx;
  try {
    ctx.emplace(g);
    int rc = reg.selected(*ctx);
    ctx->flush_warnings();
    std::fflush(stdout);
    return rc;
  } catch (const Error& e) {
    if (ctx) {
      ctx->flush_warnings();
    }
    std::fflush(stdout);
    return fail(e.what(), e.exit_code());
  } catch (const std::exception& e) {
    if (auto err = store::state_error(e, ctx ? ctx->db_path() : g.db)) {
      return fail(err->what(), err->exit_code());
    }
    return fail(fmt::format("internal error: {}", e.what()), 1);
  }
}
