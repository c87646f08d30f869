// SPDX-License-Identifier: MIT
// `gpuctl hibernate-sweep` and `gpuctl hibernate now` (DESIGN §8): one paginated listing per
// vast.ai account, a utilisation sample per instance, then per worker online → idle →
// hibernated (stopped, disk kept) → deleted (destroyed, spec kept). Every provider call is
// bracketed by an intent (cloud/); nothing is decided from a failed or partial listing.
#pragma once
#include "gpuctl/core/file_lock.hpp"
#include "gpuctl/cloud/cloud.hpp"
#include "gpuctl/store/database.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

namespace gpuctl::hibernate {

/// Whether a worker in state `s` has its instance running or starting (online, idle, starting):
/// what a stop acts on.
bool running_state(const std::string& s);

/// One decision of a sweep.
struct SweepAction {
  std::string worker;
  std::string action; ///< idle | busy | hibernate | delete | wake | sleep
  std::string reason;
};

struct SweepReport {
  std::vector<cloud::SyncReport::Account> accounts; ///< the listings
  std::vector<SweepAction> actions;
  std::vector<std::string> errors; ///< provider errors met (the sweep went on)
  int samples = 0;                 ///< utilisation samples recorded
};

/// Runs one sweep at `e.clock.now()`. With `dry_run` nothing is listed or written: decisions come
/// from the samples already recorded. Listing errors are in `accounts[].error` and decide
/// nothing for that account; a failed stop or destroy is in `errors` and is retried next sweep.
SweepReport sweep(store::Database& db, cloud::Env& e, bool dry_run);

/// Stops running vast worker `worker` as hibernated (its disk kept): claims it in one IMMEDIATE
/// transaction (so no dispatch lands on it meanwhile), stops the instance (session closed as
/// "hibernated") and records the hibernation and a `hibernated` event with `reason` and
/// `evidence`. Error(usage) for a worker that is not vast or not running, Error(conflict) while
/// a gpuctl job runs there, net::CallError when the stop failed (a stop that may have happened
/// is completed by the next listing).
store::WorkerRow hibernate_worker(store::Database& db, cloud::Env& e, const std::string& worker,
                                  const std::string& reason, const nlohmann::json& evidence);

/// `gpuctl hibernate now WORKER`: stops a running vast worker at once as hibernated (its disk is
/// kept). Error(conflict) while a gpuctl job runs there; Error(usage) for a worker that is not
/// vast or not running.
store::WorkerRow hibernate_now(store::Database& db, cloud::Env& e, const std::string& worker);

/// `gpuctl wake WORKER` options.
struct WakeOptions {
  cloud::RerentOptions rerent; ///< used when it has to rent again
  bool wait = false;           ///< poll until it runs (show calls through the sleeper)
};
struct WakeResult {
  store::WorkerRow worker;
  bool started = false;      ///< its stopped instance was started
  std::optional<cloud::RerentResult> rerented; ///< a new instance (the disk did not come along)
  Seconds took{0};           ///< --wait: how long until it ran (wall clock through the sleeper)
};
/// Wakes a hibernated or stopped vast worker: starts its instance (refused with Error(conflict)
/// when max_usd_per_day would be exceeded) and records the wake (its grace starts now). When the
/// instance was destroyed, or a start sits in "scheduling" past `[providers.vast] start_timeout`
/// (its GPUs were rented away, spec §6), it rents a matching offer instead (cloud::rerent); the
/// old instance is left stopped unless `rerent.destroy_old`.
WakeResult wake(store::Database& db, cloud::Env& e, const std::string& worker,
                const WakeOptions& o);

/// The sweep lock (DESIGN §3): flock on `<db>.sweep.lock`, non-blocking; Error(conflict) when
/// another sweep holds it.
class SweepLock {
public:
  explicit SweepLock(const std::string& db_path);

private:
  FileLock m_lock;
};

} // namespace gpuctl::hibernate
