// SPDX-License-Identifier: MIT
// The Dask scheduler's HTTP API as gpuctl's autoscaler reads it (../shared/specs/dask-http.md):
// get_workers, adaptive_target, retire_workers (the API module, off by default: §1.2), plus the
// default routes /json/counts.json (unrunnable tasks), /json/identity.json (per-worker task
// counts) and /health. Written against Debian 12's distributed 2022.12.1; tolerates newer
// versions (§6): extra keys, numeric names, a 500 from identity or from a retire that happened.
#pragma once
#include "gpuctl/net/caller.hpp"

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace gpuctl::providers::dask {

/// One entry of get_workers (§2.3): `name` as a string (an integer name is rendered in decimal),
/// `address` the worker's contact address ("tcp://HOST:PORT").
struct Worker {
  std::string name;
  std::string address;
};

/// GET /api/v1/get_workers.
struct Workers {
  int num_workers = 0;
  std::vector<Worker> workers;
};

/// The parts of GET /json/counts.json gpuctl reads (§2.6).
struct Counts {
  int unrunnable = 0; ///< tasks in state no-worker: GPU demand while no GPU worker is up (§3.3)
  int processing = 0;
  int tasks = 0;
  int workers = 0;
};

/// What /json/identity.json says of one worker (§2.7).
struct Activity {
  std::string name;
  bool idle = false;    ///< metrics.task_counts all zero except "memory"
  int executing = 0;
  std::map<std::string, double> resources; ///< e.g. {"GPU": 1.0}
};

/// The API is not reachable or not usable. `api_off` is set when the scheduler answers /health
/// but every /api/v1 path is 404 (§1.4); the message then says how to enable it.
class Unavailable : public Error {
public:
  Unavailable(const std::string& message, bool api_off)
      : Error(ErrorKind::provider, message), m_api_off(api_off)
  {
  }
  bool api_off() const noexcept { return m_api_off; }

private:
  bool m_api_off;
};

/// The environment variable that turns the API on, with its value (§1.2), for messages and docs.
std::string enable_api_hint();

/// A client for one scheduler. `base_url` is the HTTP API's base ("http://127.0.0.1:8787", plus
/// a --dashboard-prefix if any), without a trailing slash. Reads are retried by the Caller;
/// retire_workers is sent once (its outcome is read back from get_workers, §2.5). Every method
/// throws Unavailable when the scheduler cannot be reached (after retries) or the API is off,
/// Error(provider) for a malformed answer, and Error(interrupted) on SIGINT/SIGTERM.
class Client {
public:
  Client(net::Caller& caller, std::string base_url);

  const std::string& base_url() const { return m_base; }
  Workers get_workers();
  /// `Scheduler.adaptive_target()` (§2.4, §3): a worker count ≥ 0.
  int adaptive_target();
  Counts counts();
  /// Per-worker activity by address; nullopt when the route answers 500 (newer versions while
  /// tasks run, §6): then nothing may be judged idle.
  std::optional<std::map<std::string, Activity>> activity();
  /// POST /api/v1/retire_workers {"workers": addresses}: the addresses Dask confirms it retired
  /// (the keys of the answer, §2.5). `addresses` must not be empty (Error(usage)). Throws
  /// net::CallError on a 500 or a timeout: the outcome is then unknown and the caller must re-read
  /// get_workers before hibernating anything.
  std::set<std::string> retire(const std::vector<std::string>& addresses);

private:
  nlohmann::json get_json(const std::string& path, const std::string& what);
  /// Turns a 404 on an /api/v1 path into Unavailable(api_off) after checking /health.
  [[noreturn]] void api_missing(const std::string& path);
  [[noreturn]] void unreachable(const net::CallError& e);

  net::Caller& m_caller;
  std::string m_base;
};

/// The name gpuctl gives the Dask worker of `worker` ("gpuctl-" + worker, spec §4.1).
std::string dask_name(const std::string& worker);

} // namespace gpuctl::providers::dask
