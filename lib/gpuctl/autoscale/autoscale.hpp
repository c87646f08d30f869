// SPDX-License-Identifier: MIT
// `gpuctl autoscale` (DESIGN §2 autoscale/, ../shared/specs/dask-http.md): one tick reads the
// Dask scheduler's workers, adaptive target and unrunnable tasks, decides (decide.hpp), scales up
// by waking hibernated autoscale workers, then borrowing idle ssh workers, then renting offers of
// the configured spec, and scales down only its own idle Dask workers, by address, through
// retire_workers, hibernating exactly the machines Dask confirmed it retired. Machines it runs are
// autoscale-controlled (DESIGN §3): the plan, the idle rules and job dispatch leave them alone.
// Every decision is an event (type autoscale.*) carrying the numbers that drove it.
#pragma once
#include "gpuctl/autoscale/decide.hpp"
#include "gpuctl/cloud/cloud.hpp"
#include "gpuctl/config/config.hpp"
#include "gpuctl/store/database.hpp"
#include "gpuctl/store/registry.hpp"

#include <functional>
#include <string>
#include <vector>

namespace gpuctl::autoscale {

/// What the loop runs with: `[autoscale]` (DESIGN §4), overridden by the command's flags.
struct Settings {
  std::string dask_url;  ///< the scheduler's HTTP API, http://HOST:8787 (loopback for plain http)
  std::string scheduler; ///< what workers connect to; "" = tcp://<dask_url's host>:8786
  Params params;
  std::string pool = "vast"; ///< vast | ssh | both
  std::string account;       ///< vast account to rent on; "" = the only one
  std::string gpu = "RTX_4090";
  double max_usd_per_hour = 1.0;
  std::string image = "ghcr.io/dask/dask:latest";
  double disk_gb = 32;
};

/// Reads `[autoscale]` (and boot_timeout) from `cfg`.
Settings settings_from(const config::Config& cfg);

/// Checks and completes `s`: dask_url set and valid (plain http only to loopback, as every base
/// URL, DESIGN §4), the scheduler address (default derived from dask_url), pool, min ≤ max,
/// step_up ≥ 1. Throws Error(usage) naming the option.
void validate(Settings& s);

/// Starting and stopping a Dask worker on an ssh machine (the app wires the OpenSSH client).
struct SshHooks {
  /// Runs `script` detached on the worker's host under the remote job key `key`, at most once
  /// per key. Throws Error(provider) when the host cannot be reached.
  std::function<void(const store::WorkerRow&, const std::string& key, const std::string& script)>
      start;
  /// Ends that remote job if it still runs (best effort).
  std::function<void(const store::WorkerRow&, const std::string& key)> stop;
};

struct Env {
  store::Database& db;
  cloud::Env& cloud;      ///< the network environment (vast.ai calls and the Dask client)
  SshHooks ssh;           ///< unset: the ssh pool is not used
  bool refresh = true;    ///< list vast instances first (schedule --autoscale: its tick did)
  bool dry_run = false;   ///< decide and report; no provider call but Dask reads, no write
};

/// One thing a tick did (or, with dry_run, would do).
struct Step {
  std::string type;   ///< the event type: autoscale.start, autoscale.retire, autoscale.hibernate, …
  std::string worker; ///< "" when none
  std::string reason; ///< one line, with numbers
};

struct Report {
  Demand demand;
  Decision decision;
  std::vector<Step> steps;
  std::vector<std::string> errors;   ///< provider errors met after Dask was read (the tick went on)
  std::vector<std::string> warnings; ///< for the user (unserved unrunnable tasks, …)
};

/// Runs one tick at `env.cloud.clock.now()`. Throws providers::dask::Unavailable (exit 3) before
/// changing anything when the scheduler cannot be reached or its API is off; other provider
/// errors are collected in `errors`. Error(usage) when renting is needed and no vast account (or
/// several, without Settings::account) exists.
Report tick(Env& env, const Settings& s);

/// The scheduler address workers use when none is configured: tcp://HOST:8786 with HOST taken
/// from `dask_url`.
std::string default_scheduler(const std::string& dask_url);

} // namespace gpuctl::autoscale
