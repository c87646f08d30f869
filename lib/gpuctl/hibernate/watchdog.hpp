// SPDX-License-Identifier: MIT
// The idle watchdog that runs on a vast.ai instance (`gpuctl hibernate watchdog`, DESIGN §8):
// a POSIX sh script, put into the instance's onstart, that samples `nvidia-smi` and stops the
// instance itself through the vast.ai API once its GPUs stayed idle with no gpuctl job alive.
// It authenticates with the instance-scoped CONTAINER_ID / CONTAINER_API_KEY that vast.ai sets
// in every instance (specs/vast-api.md §10); the user's own API key never goes to the instance.
#pragma once
#include <chrono>
#include <string>

namespace gpuctl::hibernate {

/// What the watchdog checks and where it reports.
struct WatchdogParams {
  /// A GPU is idle while its utilisation is below this, percent (0 < x ≤ 100;
  /// `[hibernate] idle_gpu_below`).
  double idle_below = 5.0;
  /// How long every GPU must stay idle (`[hibernate] idle_for`); whole seconds, > 0.
  std::chrono::seconds idle_for{180};
  /// Extra idleness on top of idle_for, so the sweep (which owns the decision) normally acts
  /// first; whole seconds, ≥ 0.
  std::chrono::seconds margin{120};
  /// Time between two samples; whole seconds, ≥ 1 (POSIX `sleep` takes integers).
  std::chrono::seconds interval{30};
  /// vast.ai API server, scheme and host[:port] (specs/vast-api.md §1.1); a trailing '/' is
  /// dropped. Tests point it at the fake.
  std::string api_base = "https://console.vast.ai";
  /// gpuctl's job directories on the instance (each KEY/ with a `pid` file, and an `exit` file once
  /// the job ended; providers/ssh/client.hpp). "" = `$HOME/.gpuctl/jobs`, expanded on the
  /// instance; anything else is used literally.
  std::string jobs_dir;
};

/// The watchdog script, `#!/bin/sh`, every line commented for the user who reads what runs on
/// their instance. It loops until killed: every `interval` it reads `nvidia-smi
/// --query-gpu=utilization.gpu`; a missing nvidia-smi, a failure, no GPU or a value that is not
/// a number (`[N/A]`) counts as busy. A job is alive when its directory has a `pid` file, no
/// `exit` file, and `kill -s 0` reaches the pid or its process group. Once all GPUs have been idle
/// for idle_for + margin with no job alive, it sends `PUT <api_base>/api/v0/instances/
/// $CONTAINER_ID/` with `Authorization: Bearer $CONTAINER_API_KEY` and the body `{"state":
/// "stopped"}` (specs/vast-api.md §6, §10), and checks `"success": true` in the answer; a
/// failed stop is retried at the next sample, a successful one restarts the idle count. The key
/// never appears on a command line: curl reads it from its stdin (`-K -`), GNU wget from a
/// private wgetrc, python3 from the environment. The HTTP tool is curl if present, else GNU wget
/// (1.15+, for --method), else python3; GPUCTL_WATCHDOG_HTTP=curl|wget|python3 on the instance
/// forces one. Needs `date +%s`, awk, and mktemp for wget. Exits 1 at once, without looping,
/// when CONTAINER_ID or CONTAINER_API_KEY is unset. Throws Error(usage) for parameters out of
/// range or an api_base that is not http(s)://… without spaces or control characters.
std::string watchdog_snippet(const WatchdogParams& p);

/// The onstart lines that install and start the watchdog (vast.ai runs onstart at every start
/// of the instance): writes the script to `$HOME/.gpuctl/watchdog.sh` and starts it with `nohup
/// sh … &` (log `$HOME/.gpuctl/watchdog.log`, pid `$HOME/.gpuctl/watchdog.pid`) unless the
/// pid file names a live watchdog. Returns at once. Errors as watchdog_snippet.
std::string watchdog_onstart(const WatchdogParams& p);

} // namespace gpuctl::hibernate
