// SPDX-License-Identifier: MIT
// `gpuctl hibernate-sweep` and `gpuctl hibernate now` (DESIGN §8): one paginated listing per
// vast.ai account, a utilisation sample per instance, then per worker online → idle →
// hibernated (stopped, disk kept) → deleted (destroyed, spec kept). Every provider call is
// bracketed by an intent (cloud/); nothing is decided from a failed or partial listing.
#pragma once
#include "gpuctl/cloud/cloud.hpp"
#include "gpuctl/store/database.hpp"

#include <optional>
#include <string>
#include <vector>

namespace gpuctl::hibernate {

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

/// `gpuctl hibernate now WORKER`: stops a running vast worker at once as hibernated (its disk is
/// kept). Error(conflict) while a gpuctl job runs there; Error(usage) for a worker that is not
/// vast or not running.
store::WorkerRow hibernate_now(store::Database& db, cloud::Env& e, const std::string& worker);

/// `gpuctl wake WORKER`: starts a hibernated or stopped vast worker (refused with Error(conflict)
/// when max_usd_per_day would be exceeded), records the wake (its grace starts now) and an event.
store::WorkerRow wake(store::Database& db, cloud::Env& e, const std::string& worker);

/// The sweep lock (DESIGN §3): flock on `<db>.sweep.lock`, non-blocking; Error(conflict) when
/// another sweep holds it.
class SweepLock {
public:
  explicit SweepLock(const std::string& db_path);
  ~SweepLock();
  SweepLock(const SweepLock&) = delete;
  SweepLock& operator=(const SweepLock&) = delete;

private:
  int m_fd = -1;
};

} // namespace gpuctl::hibernate
