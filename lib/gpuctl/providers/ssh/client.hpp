// SPDX-License-Identifier: MIT
// The ssh back end (DESIGN §2 providers/ssh/, §7): the user's own machines and rented vast.ai
// instances reached with the OpenSSH client. Every remote command is built from words that go
// through shell_quote; local programs run as argv arrays through a Runner (process.hpp).
//
// Remote layout, per job (KEY = dispatch_key), under Options::remote_dir (default
// ~/.gpuctl/jobs):
//   KEY/started   directory; its atomic mkdir is the "exactly once" marker
//   KEY/script    the uploaded script (script jobs)
//   KEY/input/    the uploaded input dir's contents ($GPUCTL_INPUT_DIR)
//   KEY/output/   the job's results ($GPUCTL_OUTPUT_DIR), fetched by fetch_output
//   KEY/log       stdout+stderr of the job
//   KEY/pid       the job's pid, which is also its process group and session id
//   KEY/exit      its exit status once it ended (124 after a timeout_s, 128+N after signal N)
// The remote host needs a POSIX sh, coreutils (timeout, tail, head), util-linux setsid and tar;
// the login shell must understand POSIX single quotes (sh, bash, zsh, ksh, dash).
#pragma once
#include "gpuctl/providers/ssh/process.hpp"

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gpuctl::providers::ssh {

/// Where to reach a host: parsed from "user@host[:port]" / "host" / "user@[::1]:2222".
struct Target {
  std::string user;     ///< "" = ssh's own choice (config file, then the local user name)
  std::string host;     ///< name or address, IPv6 without brackets
  int port = 22;
  std::string identity; ///< private key file, "" = ssh's own choice
};

/// Parses a --host value: "host", "user@host", "host:port", "user@host:port", "[v6]",
/// "user@[v6]:port". Throws Error(usage) naming the value for anything else (empty parts, a
/// port outside 1–65535, spaces, a leading '-', control characters, more than one '@').
Target parse_target(const std::string& s);

/// "user@host:port" for display ("[v6]:port" for IPv6 addresses; no "user@" when user is "").
std::string to_string(const Target& t);

/// POSIX sh single-quotes one word so the remote shell sees it verbatim ('a b' → 'a b',
/// it's → 'it'\''s', "" → ''). Words made only of [A-Za-z0-9_@%+:,./-] come back unquoted.
/// Throws Error(usage) for a word containing a NUL byte (no shell or argv can carry one).
std::string shell_quote(std::string_view word);

/// Joins words with single spaces, each through shell_quote.
std::string shell_join(const std::vector<std::string>& words);

/// How to run ssh.
struct Options {
  std::string ssh = "ssh";    ///< program (PATH lookup)
  std::string scp = "scp";    ///< unused for now: copies go as tar streams over ssh
  std::string config_file;    ///< passed as -F FILE to ssh when set (env GPUCTL_SSH_CONFIG;
                              ///< tests use it for known_hosts/identity)
  int connect_timeout_s = 10; ///< ssh -o ConnectTimeout, seconds
  std::chrono::milliseconds command_timeout{60000}; ///< each ssh call is killed after this
  /// Where job directories live on the host: relative to the remote $HOME, or absolute.
  /// Passed as data, never pasted into a command, so "~" is NOT expanded (write it relative).
  std::string remote_dir = ".gpuctl/jobs";
  /// kill(): how long after SIGTERM the job's process group gets SIGKILL; also the grace
  /// `timeout -k` gives a job after its timeout_s. Whole seconds are used (at least 1).
  std::chrono::milliseconds kill_grace{5000};
  /// Adds -o StrictHostKeyChecking=accept-new: a host seen for the first time is trusted and
  /// recorded, a changed key is still refused. For vast.ai instances, whose keys are new with
  /// every rent; never for the user's own machines.
  bool accept_new_host_keys = false;
};

/// Reads Options::config_file from GPUCTL_SSH_CONFIG (unchanged when unset or empty).
Options options_from_env(Options base = {});

/// One look at a host's GPUs.
struct Probe {
  bool online = false;
  std::optional<double> gpu_util;        ///< percent, mean over the GPUs that report it
  std::optional<double> memory_used_mib; ///< MiB, sum over the GPUs that report it
  int gpus = 0;                          ///< GPU lines nvidia-smi printed
  std::string error;                     ///< one line, why offline ("" when online)
};

/// Parses `nvidia-smi --query-gpu=utilization.gpu,memory.used --format=csv,noheader[,nounits]`
/// output ("37 %, 1234 MiB" / "37, 1234" / "[N/A], [N/A]" lines) into gpus, gpu_util and
/// memory_used_mib; online = at least one GPU line, else error says why. Never throws.
Probe parse_nvidia_smi(const std::string& out);

/// A remote job's life: never started for this key, running (or just starting), or ended.
enum class RunState { absent, running, exited };

/// What status() found.
struct RunStatus {
  RunState state = RunState::absent;
  /// When exited: the exit status (124 after timeout_s, 128+N after signal N). nullopt when the
  /// job vanished without writing one (host rebooted, wrapper killed).
  std::optional<int> exit_code;
};

/// What to run: an exact argv (each word quoted for the remote shell), or a local script file
/// uploaded and run with its arguments.
struct RemoteJob {
  std::string key;                ///< dispatch_key: [a-z0-9-]+, names the remote job directory
  std::vector<std::string> argv;  ///< command and arguments, verbatim
  /// Local path; when set, uploaded as KEY/script and run as `sh script ARGS` unless it starts
  /// with "#!" (then chmod +x and run directly); argv are then its arguments.
  std::string script_file;
  std::string input_dir;          ///< local dir, "" = none; its contents copied to KEY/input
  std::map<std::string, std::string> env; ///< extra environment, names [A-Za-z_][A-Za-z0-9_]*
  std::int64_t timeout_s = 0;     ///< > 0: the remote run is killed after this many seconds
};

/// The OpenSSH client: ssh with argv arrays, -o BatchMode=yes, -o ConnectTimeout=N, host keys
/// checked as ssh does (never StrictHostKeyChecking=no, never passwords), -p PORT, -i IDENTITY
/// when set, `--` before the destination. Every call is one ssh process bounded by
/// Options::command_timeout. All methods throw Error(interrupted) when gpuctl gets
/// SIGINT/SIGTERM during a call, and Error(usage) for an invalid key.
class Client {
public:
  /// `runner` must outlive the client.
  Client(Runner& runner, Options opts);

  /// argv of `ssh [-F CONFIG] -o BatchMode=yes -o ConnectTimeout=N -p PORT [-i IDENTITY]
  /// [-l USER] -- HOST REMOTE_COMMAND` (exposed for tests).
  std::vector<std::string> ssh_argv(const Target& t, const std::string& remote_command) const;

  /// Runs `nvidia-smi --query-gpu=utilization.gpu,memory.used --format=csv,noheader` once and
  /// parses it (parse_nvidia_smi). online=false with a one-line reason when ssh fails (exit 255,
  /// timeout) or nvidia-smi fails. Throws only Error(interrupted).
  Probe probe(const Target& t);

  /// Starts the job detached (its own session) in REMOTE_DIR/KEY, see the layout above; cwd
  /// KEY/, env GPUCTL_JOB_KEY, GPUCTL_INPUT_DIR=KEY/input, GPUCTL_OUTPUT_DIR=KEY/output (both
  /// created, absolute paths) plus job.env. Exactly once: `mkdir KEY/started` is the atomic
  /// marker, so a second launch for the same key does nothing and returns false; returns true
  /// when this call started it. Uploads (script, input dir) travel as one tar stream in the
  /// same ssh call. Throws Error(usage) for an invalid job (key, env name, no command, missing
  /// local file), Error(provider) naming the host when ssh fails or the host could not set the
  /// job up (then the job, if marked, is recorded as exited 126 — check status() before trying
  /// again).
  bool launch(const Target& t, const RemoteJob& job);

  /// Whether KEY was started (absent if not), is running (pid alive, or just starting) or
  /// exited (with its code). Error(provider) naming the host when it can't be reached.
  RunStatus status(const Target& t, const std::string& key);

  /// The remote log from byte `offset` on ("" when there is none yet or offset is past its
  /// end), for `job logs --follow`. Error(usage) for offset < 0, Error(provider) on ssh failure.
  std::string log(const Target& t, const std::string& key, std::int64_t offset = 0);

  /// Copies KEY/output/ into local `dest_dir` (created; existing files of the same name are
  /// replaced) and KEY/log to `<parent of dest_dir>/log` (e.g. dest_dir "run1/output" → log
  /// "run1/log"; not written when the job has no log). Error(provider) when the host can't be
  /// reached or KEY has no output dir; Error(failure) when writing locally fails.
  void fetch_output(const Target& t, const std::string& key, const std::string& dest_dir);

  /// Stops a running job: SIGTERM to its process group, SIGKILL after Options::kill_grace;
  /// waits (up to the grace + 2 s) for its exit status to be recorded. A no-op when it is not
  /// running. Error(provider) on ssh failure.
  void kill(const Target& t, const std::string& key);

private:
  /// Runs REMOTE_COMMAND on t; throws Error(interrupted) when interrupted.
  ProcessResult remote(const Target& t, const std::string& remote_command,
                       const std::string& stdin_data = {});
  /// Throws Error(provider) "ssh HOST: WHAT: REASON" for a failed result.
  [[noreturn]] void fail(const Target& t, const std::string& what, const ProcessResult& r) const;

  Runner& m_runner;
  Options m_opts;
};

} // namespace gpuctl::providers::ssh
