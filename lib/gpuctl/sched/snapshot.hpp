// SPDX-License-Identifier: MIT
// The fleet as dispatch sees it (sched/select.hpp), read from the state file: shared by the tick
// and by `job show` (why a job is still queued).
#pragma once
#include "gpuctl/config/config.hpp"
#include "gpuctl/sched/job.hpp"
#include "gpuctl/sched/select.hpp"
#include "gpuctl/store/database.hpp"
#include "gpuctl/store/registry.hpp"

#include <map>
#include <set>
#include <string>
#include <vector>

namespace gpuctl::sched {

/// "" when `provider` can run `spec`, else why not: Kaggle runs scripts and notebooks (a kernel,
/// specs/kaggle-api.md §3); ssh and vast run commands and scripts, not notebooks; Colab runs
/// nothing (no API gpuctl drives).
std::string cannot_run(const std::string& provider, const JobSpec& spec);

/// Whether each run on `provider` is a quota session of its own (Kaggle).
bool session_per_job(const std::string& provider);

/// Every account's load: budget windows with usage up to `now`, open sessions, and the hours
/// their running sessions still commit (each job's run limit, else the session's deadline).
std::map<std::int64_t, AccountLoad> account_loads(store::Database& db, const config::Config& cfg,
                                                  Instant now);

/// Workers as dispatch sees them: online (state online/idle), busy (a dispatched, running or
/// lost job), inside a slot of the active plan (Kaggle and Colab only), last dispatched.
std::vector<WorkerView> worker_views(store::Database& db, const std::vector<store::WorkerRow>& ws,
                                     Instant now);

/// A queued job's needs; `providers` are those with a back end in this process.
JobNeed job_need(const store::JobRow& job, const JobSpec& spec,
                 const std::set<std::string>& providers);

} // namespace gpuctl::sched
