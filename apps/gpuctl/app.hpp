// SPDX-License-Identifier: MIT
// Shared plumbing of the gpuctl binary: global options, the per-run context, and the way a
// command registers its action. Commands only parse arguments, call lib/gpuctl and render.
#pragma once
#include "gpuctl/autoscale/autoscale.hpp"
#include "gpuctl/cloud/cloud.hpp"
#include "gpuctl/config/config.hpp"
#include "gpuctl/core/clock.hpp"
#include "gpuctl/core/time.hpp"
#include "gpuctl/providers/credentials.hpp"
#include "gpuctl/providers/ssh/client.hpp"
#include "gpuctl/providers/ssh/process.hpp"
#include "gpuctl/sched/backend.hpp"

#include <fmt/format.h>
#include "gpuctl/store/database.hpp"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace gpuctl::app {

/// Global options (DESIGN §9).
struct Globals {
  std::string db;
  std::string config;
  std::string tz;
  bool json = false;
  bool quiet = false;
  bool no_color = false;
  bool verbose = false;
};

/// Everything a command needs at run time, built once after parsing.
class Context {
public:
  explicit Context(const Globals& g);

  const Globals& globals() const { return m_g; }
  const Clock& clock() const { return *m_clock; }
  Instant now() const { return m_clock->now(); }
  const config::Config& config() const { return m_config; }
  const std::string& db_path() const { return m_db_path; }
  const std::string& config_path() const { return m_config_path; }
  /// The display zone (loaded on first use: only human output needs the tz database).
  const DisplayZone& zone();
  bool color() const { return m_color; }
  bool json() const { return m_g.json; }
  providers::EnvLookup env() const;
  /// Where job files go: $XDG_DATA_HOME/gpuctl/jobs (default ~/.local/share/gpuctl/jobs).
  std::string jobs_root() const;

  /// Opens the state file; Access::read never creates or changes it.
  store::Database open(store::Access access) const;

  /// Prints one JSON document on stdout.
  void print_json(const nlohmann::ordered_json& j) const;
  /// Prints a JSON array of `items` mapped through `to_json`. Off a terminal each element is
  /// serialised and freed in turn (the same bytes as a compact dump of the whole array, without
  /// holding a tree of thousands of objects).
  template <typename Items, typename F>
  void
  print_json_array(const Items& items, F&& to_json) const
  {
    if (stdout_is_tty()) {
      nlohmann::ordered_json arr = nlohmann::ordered_json::array();
      for (const auto& it : items) {
        arr.push_back(to_json(it));
      }
      print_json(arr);
      return;
    }
    std::string out = "[";
    for (const auto& it : items) {
      if (out.size() > 1) {
        out += ',';
      }
      out += to_json(it).dump();
    }
    out += "]\n";
    write_stdout(out);
  }

  /// A confirmation line on stderr, unless --quiet or --json.
  void note(const std::string& line) const;
  /// A warning line on stderr (`gpuctl: warning: …`), even with --json (not with --quiet).
  void warn(const std::string& line) const;

  /// The network environment for provider commands, built on first use: the libcurl transport
  /// (dlopened then, not at start-up), the signal-aware sleeper, retries and timeouts from
  /// `[net]`, pacing through the state file, and the call log for --verbose / GPUCTL_DEBUG=1.
  cloud::Env& cloud();
  /// Prints and clears the warnings provider operations collected.
  void flush_warnings();

private:
  static bool stdout_is_tty();
  static void write_stdout(const std::string& s);
  Globals m_g;
  std::unique_ptr<Clock> m_clock;
  config::Config m_config;
  std::string m_db_path;
  std::string m_config_path;
  std::optional<DisplayZone> m_zone;
  bool m_color = false;
  std::unique_ptr<net::Transport> m_transport;
  std::unique_ptr<net::Sleeper> m_sleeper;
  std::unique_ptr<net::Caller> m_caller;
  std::unique_ptr<cloud::Env> m_cloud;
};

/// The job back ends of this process (Kaggle, vast.ai, ssh); Kaggle and vast.ai build their
/// network environment on first use.
class JobBackends {
public:
  JobBackends(Context& ctx, store::Database& db);
  ~JobBackends();
  JobBackends(const JobBackends&) = delete;
  JobBackends& operator=(const JobBackends&) = delete;
  /// By provider name.
  std::map<std::string, sched::Backend*> map() const;
  /// Starting and stopping the autoscaler's Dask workers on ssh machines, with the same ssh
  /// client and options as the ssh back end.
  autoscale::SshHooks ssh_hooks() const;

private:
  providers::ssh::Options m_opts;
  std::unique_ptr<providers::ssh::Runner> m_runner;
  std::unique_ptr<sched::Backend> m_ssh;
  std::unique_ptr<sched::Backend> m_kaggle;
  std::unique_ptr<sched::Backend> m_vast;
};

/// The action a leaf command runs; returns the exit code.
using Action = std::function<int(Context&)>;

/// Collects the chosen command's action during parsing.
struct Registry {
  Globals globals;
  Action selected;
  /// Set instead of `selected` by commands that need no context (no config, no state file).
  std::function<int()> selected_plain;
  /// Makes `sub` set its action as the one to run when it is parsed.
  void on(CLI::App* sub, Action action);
  /// Like `on`, for an action that needs no context: it runs even when the config is broken.
  void on_plain(CLI::App* sub, std::function<int()> action);
};

void register_init(CLI::App& app, Registry& r);
void register_complete(CLI::App& app, Registry& r);
void register_completion(CLI::App& app, Registry& r);
void register_config(CLI::App& app, Registry& r);
void register_account(CLI::App& app, Registry& r);
void register_worker(CLI::App& app, Registry& r);
void register_status(CLI::App& app, Registry& r);
void register_session(CLI::App& app, Registry& r);
void register_quota(CLI::App& app, Registry& r);
void register_schedule(CLI::App& app, Registry& r);
void register_offers(CLI::App& app, Registry& r);
void register_job(CLI::App& app, Registry& r);
void register_events(CLI::App& app, Registry& r);
void register_hibernate(CLI::App& app, Registry& r);
void register_hibernate_sweep(CLI::App& app, Registry& r);
void register_wake(CLI::App& app, Registry& r);
void register_autoscale(CLI::App& app, Registry& r);

/// One autoscale tick for `autoscale` and `schedule --autoscale`: runs it and renders it (a line
/// per step, or one JSON document, put in `*json_out` instead of printed when given). False when
/// it met errors (Dask unreachable or its API off: nothing changed; provider errors after that).
bool autoscale_once(Context& ctx, store::Database& db, JobBackends& backends,
                    const autoscale::Settings& s, bool refresh, bool dry_run,
                    nlohmann::ordered_json* json_out);

/// Sleeps `every` between two ticks of a --watch loop; false when SIGINT/SIGTERM arrived (then
/// the loop ends with exit 0: nothing is in progress).
bool sleep_between_ticks(Seconds every);

/// CLI11 validators that accept only plain non-negative decimals ("12", "1.5") and whole
/// numbers: no sign, no exponent, no hex, no inf/nan, no empty string. whole_arg() is for int
/// options: past 2147483647 it says so itself (CLI11 would only say "Could not convert").
const CLI::Validator& decimal_arg();
const CLI::Validator& whole_arg();
/// A whole number of up to 12 digits, for 64-bit provider ids (a vast.ai offer id).
const CLI::Validator& id_arg();
/// A whole number with an optional leading '-' ("-5", "10"): no '+', hex, octal-looking leading
/// zeros or blanks.
const CLI::Validator& signed_whole_arg();
/// Any text but the empty string (an empty value is a mistake, not "unset").
const CLI::Validator& nonempty_arg();

/// Formats an optional instant for tables: local time or "-".
std::string local_or_dash(Context& ctx, const std::optional<Instant>& t);

} // namespace gpuctl::app
