// SPDX-License-Identifier: MIT
// One scheduler tick (DESIGN §7) and the watch loop: refresh state, enforce deadlines, start what
// the active plan says, dispatch. Every action is an event; no provider call runs inside a DB
// transaction; a dispatch is bracketed by an intent so it happens at most once.
#pragma once
#include "gpuctl/core/file_lock.hpp"
#include "gpuctl/config/config.hpp"
#include "gpuctl/core/clock.hpp"
#include "gpuctl/sched/backend.hpp"
#include "gpuctl/store/database.hpp"

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace gpuctl::sched {

/// What a tick runs with.
struct TickEnv {
  store::Database& db;
  const config::Config& cfg;
  const Clock& clock;
  std::map<std::string, Backend*> backends; ///< by provider: kaggle, ssh, vast
  /// Starts / stops a vast.ai worker's instance (cloud::start_worker / stop_worker); the stop
  /// closes the worker's session with the given reason. Unset: vast workers are left alone.
  std::function<void(const std::string& worker)> start_instance;
  std::function<void(const std::string& worker, const std::string& reason)> stop_instance;
  /// Tells a person something (`--notify CMD`); unset = events only.
  std::function<void(const std::string& message)> notify;
  std::string jobs_root; ///< $XDG_DATA_HOME/gpuctl/jobs
  /// Whether to stop at the next safe point (SIGINT/SIGTERM).
  std::function<bool()> interrupted = [] { return false; };
};

struct TickOptions {
  bool dry_run = false; ///< decide from the state file as it is; no provider call, no write
};

/// One thing a tick did (or, with dry_run, would do).
struct Action {
  Instant at{};
  std::string type;   ///< the event type: job.dispatch, deadline.stop, worker.offline, …
  std::string worker; ///< "" when none
  std::optional<std::int64_t> job;
  std::string reason;
};

struct TickReport {
  std::vector<Action> actions;
  std::vector<std::string> errors; ///< provider errors met (the tick went on)
  bool interrupted = false;        ///< stopped early at a safe point
};

/// Runs one tick. Provider errors of one worker or job are collected in `errors` and the tick
/// goes on; DB errors propagate.
TickReport tick(TickEnv& env, const TickOptions& opts);

/// The tick lock (DESIGN §3): flock on `<db>.tick.lock`, non-blocking. Error(conflict) "another
/// scheduler is running" when held; released by the destructor or when the process dies.
class TickLock {
public:
  explicit TickLock(const std::string& db_path);

private:
  FileLock m_lock;
};

/// The dispatch_key of attempt `attempt` of job `id`: "j<id>-a<attempt>-<6 hex>" (random part so
/// two state files sharing one Kaggle account never pick the same slug).
std::string make_dispatch_key(std::int64_t id, int attempt);

} // namespace gpuctl::sched
