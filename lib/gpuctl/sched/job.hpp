// SPDX-License-Identifier: MIT
// The job queue's services (DESIGN §7): submit, list, show (with why a job is still queued),
// cancel. Nothing here prints or talks to a provider; the scheduler tick (sched/tick.hpp) runs
// the jobs.
#pragma once
#include "gpuctl/config/config.hpp"
#include "gpuctl/core/clock.hpp"
#include "gpuctl/store/database.hpp"
#include "gpuctl/store/jobs.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace gpuctl::sched {

/// What a job runs and where it may run (stored as jobs.spec_json).
struct JobSpec {
  std::string kind = "command";  ///< command | script | notebook
  std::vector<std::string> argv; ///< command: the exact argv; script: its arguments
  std::string file;              ///< script / notebook: the snapshot taken at submit (absolute path)
  std::string file_name;         ///< its original base name
  std::string provider;          ///< "" = any provider that can run it
  std::string worker;            ///< "" = any worker
  std::string gpu;               ///< "" = any GPU model
  std::string input_dir;         ///< absolute; copied up before the run (ssh, vast)
  std::string output_dir;        ///< absolute; "" = $XDG_DATA_HOME/gpuctl/jobs/ID
  // Kaggle (specs/kaggle-api.md §3)
  std::string accelerator;                  ///< machine shape, "" = NvidiaTeslaT4
  std::vector<std::string> datasets;        ///< owner/slug
  bool internet = false;
};

nlohmann::json to_json(const JobSpec& s);
/// Error(usage) when the stored text is not a job spec.
JobSpec spec_from_json_text(const std::string& text);

/// `gpuctl job submit` input.
struct SubmitRequest {
  JobSpec spec;
  std::string name; ///< "" = derived from the command or file
  int priority = 0; ///< higher runs first
  int max_attempts = 3;
  std::optional<std::int64_t> timeout_s; ///< seconds
};

/// Validates and queues a job. The script or notebook is copied into the job directory
/// (`jobs_root`/ID/submitted/) so later edits to the file do not change the job. Error(usage)
/// for a missing file, an unknown provider/worker, a Kaggle-only option on a non-Kaggle job, or
/// a job no provider can run (a command on Kaggle, anything on Colab).
store::JobRow submit(store::Database& db, const SubmitRequest& r, const std::string& jobs_root,
                     Instant now);

/// The run limit the current attempt was dispatched with (result_json "run_timeout_s"),
/// seconds; 0 = none or not dispatched.
std::int64_t run_limit_s(const store::JobRow& job);

/// The directory of a job's files: its output dir, else `jobs_root`/ID.
std::string job_dir(const store::JobRow& job, const JobSpec& spec, const std::string& jobs_root);

/// Result of `gpuctl job cancel`.
struct CancelResult {
  store::JobRow job;
  /// The run keeps going at the provider (Kaggle cannot stop a run, specs/kaggle-api.md §8):
  /// it ends when it completes or reaches its session timeout.
  bool runs_on = false;
  bool stop_requested = false; ///< an ssh/vast run: the next tick stops it
  bool already = false;        ///< the cancel was requested before: nothing written
};
/// Cancels a job: a queued one at once; a dispatched or running one is marked for the next tick
/// (ssh and vast runs are killed there; a Kaggle run cannot be stopped and runs on until it ends
/// or times out — said in `runs_on`). Error(conflict) for a job already in a final state.
CancelResult cancel(store::Database& db, std::int64_t id, Instant now);

/// Why a queued job has no candidate worker, e.g. "2 workers at warning, 1 offline", judged
/// from the state file alone; when some worker could take it, says it goes at the next tick.
std::string why_queued(store::Database& db, const config::Config& cfg, const store::JobRow& job,
                       Instant now);

/// Every job with why_queued filled for queued ones (by id).
std::map<std::int64_t, std::string> why_queued_all(store::Database& db, const config::Config& cfg,
                                                   const std::vector<store::JobRow>& jobs,
                                                   Instant now);

} // namespace gpuctl::sched
