// SPDX-License-Identifier: MIT
// The interface between the scheduler tick and the providers that run jobs (DESIGN §7): Kaggle
// (a job is a kernel version), ssh and vast.ai (a job is a detached process in a remote job
// directory). One back end per provider; Colab has none (no API gpuctl drives).
#pragma once
#include "gpuctl/sched/job.hpp"
#include "gpuctl/store/registry.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace gpuctl::sched {

/// A run as the tick hands it to a back end. `key` is the dispatch_key: it names the run at the
/// provider (Kaggle slug `gpuctl-<key>`, remote directory ~/.gpuctl/jobs/<key>), so an earlier
/// attempt is always found again.
struct RunContext {
  const store::JobRow& job;
  const JobSpec& spec;
  const store::WorkerRow& worker;
  const store::AccountRow& account;
  std::string key;
  std::int64_t timeout_s = 0; ///< seconds; 0 = none
};

/// What a provider says about a run.
enum class Phase {
  absent,    ///< no such run: never started, or gone
  queued,    ///< accepted, not running yet
  running,
  succeeded,
  failed
};
struct Observation {
  Phase phase = Phase::absent;
  std::optional<int> exit_code;
  std::string message; ///< the provider's failure message, if any
};

/// A worker's health as one refresh saw it.
struct Health {
  bool reached = false;
  std::optional<double> gpu_util; ///< percent
  std::string error;              ///< why not reached (one line)
};

/// A provider that runs jobs. Methods throw gpuctl::Error (provider errors exit 3);
/// net::CallError with maybe_delivered() when the outcome of a launch is unknown.
class Backend {
public:
  virtual ~Backend() = default;
  /// "" when this back end can run `spec`, else why not ("Kaggle runs scripts and notebooks").
  virtual std::string cannot_run(const JobSpec& spec) const = 0;
  /// One health check per host / account for `workers` (all of this provider, enabled). Workers
  /// absent from the answer were not reached. May record what it learns itself (vast listing).
  virtual std::map<std::int64_t, Health> refresh(const std::vector<store::WorkerRow>& workers) = 0;
  /// Starts the run. Returns provider details for the job's result_json (ref, url, version).
  /// Never starts a second run for a key that has one (ssh: an atomic marker; Kaggle: the tick
  /// observes before it launches again).
  virtual nlohmann::json launch(const RunContext& r) = 0;
  /// The run's state at the provider; throws when the provider cannot be reached.
  virtual Observation observe(const RunContext& r) = 0;
  /// Downloads the run's log (as `dir`/log) and output files into `dir`.
  virtual void collect(const RunContext& r, const std::string& dir) = 0;
  /// The run's log from byte `offset` on, while it runs (`job logs --follow`); "" when there is
  /// nothing new. Throws when the provider cannot be reached.
  virtual std::string log(const RunContext& r, std::int64_t offset) = 0;
  /// Stops a running run. Error(conflict) when the provider cannot (Kaggle, spec §8).
  virtual void stop(const RunContext& r) = 0;
  /// Whether a run costs a quota session on the account (Kaggle: yes; ssh/vast: the worker's own
  /// session already counts).
  virtual bool session_per_job() const = 0;
};

} // namespace gpuctl::sched
