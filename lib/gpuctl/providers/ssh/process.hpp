// SPDX-License-Identifier: MIT
// Running local programs for the ssh back end: argv arrays (never a shell), captured output, a
// timeout, and SIGINT/SIGTERM to gpuctl honoured (DESIGN §2 providers/ssh/).
#pragma once
#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace gpuctl::providers::ssh {

/// What one run of a program did.
struct ProcessResult {
  int exit_code = -1;       ///< the program's exit status; 128+N when killed by signal N; -1 when it never ran
  bool timed_out = false;   ///< killed because the timeout passed
  bool interrupted = false; ///< killed because gpuctl got SIGINT/SIGTERM (net::interrupted())
  std::string out;          ///< everything it wrote to stdout (bytes, not necessarily text)
  std::string err;          ///< everything it wrote to stderr; for a program that could not be
                            ///< started, the reason (exit_code 127)
};

/// Runs programs (argv arrays, never a shell). An interface so tests can record/replace it.
class Runner {
public:
  virtual ~Runner() = default;
  /// Runs argv[0] (PATH lookup) with stdin from `stdin_data` (empty = /dev/null), capturing
  /// stdout/stderr, killing it (SIGTERM then SIGKILL) after `timeout`. Honours
  /// gpuctl::net::interrupted() (lib/gpuctl/net/interrupt.hpp): a SIGINT/SIGTERM to gpuctl stops
  /// the child and returns interrupted=true. A program that cannot be started gives exit_code 127
  /// and the reason in `err`; never throws for the program's own failures. Throws
  /// Error(usage) for an empty argv.
  virtual ProcessResult run(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
                            const std::string& stdin_data = {}) = 0;
};

/// The posix_spawn implementation. The child runs in its own process group (so a timeout or an
/// interrupt stops what it started too) with the default disposition for SIGPIPE, SIGINT,
/// SIGTERM and SIGHUP and an empty signal mask; it inherits gpuctl's environment.
std::unique_ptr<Runner> make_process_runner();

} // namespace gpuctl::providers::ssh
