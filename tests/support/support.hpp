// SPDX-License-Identifier: MIT
// Test helpers: temporary directories and running the real gpuctl binary.
#pragma once
#include <nlohmann/json.hpp>

#include <map>
#include <string>
#include <vector>

namespace gpuctl::test {

/// A fresh directory under $TMPDIR, removed at scope exit (kept when GPUCTL_KEEP_TEST_DIRS=1).
class TempDir {
public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return m_path; }
  std::string operator/(const std::string& leaf) const { return m_path + "/" + leaf; }

private:
  std::string m_path;
};

/// What one run of the binary did.
struct RunResult {
  int code = -1;
  std::string out;
  std::string err;
  nlohmann::json json() const; ///< parses `out`; fails the test when it is not JSON
};

/// A user's environment for the real binary: its own HOME and XDG dirs in a temp dir, a fixed
/// clock, no colour. Tests add or override variables through `env`.
class Cli {
public:
  Cli();
  std::map<std::string, std::string> env;
  const TempDir& dir() const { return m_dir; }
  std::string db_path() const;
  /// Runs `gpuctl args...` with `env`, capturing stdout, stderr and the exit code.
  RunResult run(const std::vector<std::string>& args) const;
  /// Runs with `extra` added to (or replacing entries of) `env`.
  RunResult run(const std::vector<std::string>& args,
                const std::map<std::string, std::string>& extra) const;
  /// Like run, but fails the test unless it exits 0.
  RunResult ok(const std::vector<std::string>& args) const;

private:
  TempDir m_dir;
};

/// Runs argv[0] (a path, or a name looked up in env's PATH) with exactly `env` and stdin from
/// /dev/null, capturing stdout, stderr and the exit code.
RunResult run_prog(const std::vector<std::string>& args, const std::map<std::string, std::string>& env);
/// Starts `gpuctl args...` without waiting; returns the pid.
int spawn_gpuctl(const std::vector<std::string>& args, const std::map<std::string, std::string>& env);
/// Waits for a pid; returns its exit code.
int wait_exit(int pid);

/// The whole file, or "" when missing.
std::string read_file(const std::string& path);
void write_file(const std::string& path, const std::string& text);
/// File mode bits (e.g. 0600), or -1 when missing.
int file_mode(const std::string& path);
/// FNV-1a of the file's bytes (0 when missing).
unsigned long long file_hash(const std::string& path);

} // namespace gpuctl::test
