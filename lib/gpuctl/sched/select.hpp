// SPDX-License-Identifier: MIT
// Worker selection for dispatch (DESIGN §7), as a pure function over a snapshot of the fleet so
// it is unit-tested and benchmarked without a provider or a DB.
#pragma once
#include "gpuctl/core/clock.hpp"
#include "gpuctl/quota/ledger.hpp"
#include "gpuctl/quota/policy.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace gpuctl::sched {

/// A worker as dispatch sees it.
struct WorkerView {
  std::int64_t id = 0;
  std::string name;
  std::string provider;
  std::string gpu;
  std::int64_t account_id = 0;
  bool enabled = true;
  bool online = false;    ///< state online/idle and seen within heartbeat_timeout
  bool busy = false;      ///< a job is dispatched, running or lost there
  bool in_slot = true;    ///< inside a slot of the active plan (or no plan applies)
  std::optional<Instant> last_dispatched;
};

/// An account's load: its budget windows and what its running sessions still commit.
struct AccountLoad {
  std::int64_t id = 0;
  std::string name;
  quota::Policy policy;
  std::vector<quota::WindowUsage> windows; ///< used_h = recorded usage up to now
  double committed_h = 0;  ///< hours still committed by running sessions (timeouts / deadlines)
  int open_sessions = 0;
  bool session_per_job = false; ///< Kaggle: each run is a GPU session (concurrent applies)
  std::string money_status = "safe"; ///< vast: the max_usd_per_day band
  double safe_below = 0.7;
  double critical_above = 0.9;
};

/// A queued job's needs, in dispatch order.
struct JobNeed {
  std::int64_t id = 0;
  std::string provider; ///< constraint, "" = any
  std::string worker;   ///< constraint
  std::string gpu;      ///< constraint
  std::set<std::string> runnable_on; ///< providers whose back end can run it
  std::optional<std::int64_t> timeout_s;
  std::set<std::int64_t> avoid; ///< workers where an earlier attempt was lost (tried last)
};

/// One decision: run `job_id` on `worker_id`; `timeout_s` is the run's limit (for a session per
/// job: min(job timeout, time left before the session's deadline)); 0 = none.
struct Assignment {
  std::int64_t job_id = 0;
  std::int64_t worker_id = 0;
  std::int64_t timeout_s = 0;
  double projected_share = 0; ///< the account's before this job (null shares count 0)
};

struct Selection {
  std::vector<Assignment> assignments;
  std::map<std::int64_t, std::string> why; ///< job id → why it stays queued (when `explain`)
};

/// The projected share of an account: max over its windows of (used + committed) / budget;
/// 0 without a window.
double projected_share(const AccountLoad& a);

/// Assigns jobs in order. Candidates: enabled, online, free workers whose provider can run the
/// job and match its constraints, inside a planned slot, whose account has a free `concurrent`
/// slot (session-per-job providers) and a projected share below safe_below before this job, and
/// time left before a new session's deadline. Workers in `avoid` (an earlier attempt was lost
/// there) come last; then lowest projected share first; then least recently dispatched (never
/// first); then name. Each assignment makes the
/// worker busy and adds the job's committed hours (its timeout, else the session's time to its
/// deadline) to the account. `explain` fills `why` for jobs left queued.
Selection select(const std::vector<JobNeed>& jobs, std::vector<WorkerView> workers,
                 std::map<std::int64_t, AccountLoad> accounts, Instant now, bool explain);

} // namespace gpuctl::sched
