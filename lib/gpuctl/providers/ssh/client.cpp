// SPDX-License-Identifier: MIT
#include "gpuctl/providers/ssh/client.hpp"

#include "gpuctl/core/error.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <system_error>

namespace gpuctl::providers::ssh {

namespace fs = std::filesystem;

namespace {

/// The value with control characters shown as '?', for messages.
std::string
printable(std::string_view s)
{
  std::string out;
  for (unsigned char c : s) {
    out.push_back(c < 0x20 || c == 0x7f ? '?' : static_cast<char>(c));
  }
  return out;
}

[[noreturn]] void
bad_target(const std::string& s, std::string_view why)
{
  throw_usage("invalid host '{}': {} (expected host, user@host, user@host:port or user@[v6]:port)",
              printable(s), why);
}

bool
is_name_char(char c)
{
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '-' || c == '_';
}

int
parse_port(const std::string& s, std::string_view p)
{
  if (p.empty() || p.size() > 5 ||
      !std::all_of(p.begin(), p.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    bad_target(s, fmt::format("bad port '{}'", printable(p)));
  }
  int port = std::stoi(std::string(p));
  if (port < 1 || port > 65535) {
    bad_target(s, fmt::format("port {} is outside 1-65535", port));
  }
  return port;
}

/// The last non-empty line of `text`, trimmed, control characters replaced, at most 300 bytes.
std::string
last_line(const std::string& text)
{
  std::string line;
  std::size_t end = text.size();
  while (end > 0) {
    std::size_t start = text.rfind('\n', end - 1);
    start = start == std::string::npos ? 0 : start + 1;
    std::string_view l(text.data() + start, end - start);
    while (!l.empty() && std::isspace(static_cast<unsigned char>(l.back()))) {
      l.remove_suffix(1);
    }
    while (!l.empty() && std::isspace(static_cast<unsigned char>(l.front()))) {
      l.remove_prefix(1);
    }
    if (!l.empty()) {
      line = printable(l);
      break;
    }
    end = start == 0 ? 0 : start - 1;
  }
  if (line.size() > 300) {
    line = line.substr(0, 297) + "...";
  }
  return line;
}

void
check_key(const std::string& key)
{
  if (key.empty() || key.size() > 128 ||
      !std::all_of(key.begin(), key.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
      })) {
    throw_usage("invalid job key '{}': expected [a-z0-9-]+", printable(key));
  }
}

void
check_env_name(const std::string& name)
{
  bool ok = !name.empty() && !(name[0] >= '0' && name[0] <= '9') &&
            std::all_of(name.begin(), name.end(), [](char c) {
              return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_';
            });
  // isalnum is locale-dependent only for bytes >= 0x80 in odd locales; reject those outright.
  ok = ok && std::all_of(name.begin(), name.end(), [](char c) {
         return static_cast<unsigned char>(c) < 0x80;
       });
  if (!ok) {
    throw_usage("invalid environment variable name '{}': expected [A-Za-z_][A-Za-z0-9_]*",
                printable(name));
  }
}

/// `sh -c SCRIPT sh ARGS...` as one remote command line: the login shell only ever sees quoted
/// words, and SCRIPT reads its inputs from "$@".
std::string
sh_command(const std::string& script, const std::vector<std::string>& args)
{
  std::vector<std::string> words{"sh", "-c", script, "sh"};
  words.insert(words.end(), args.begin(), args.end());
  return shell_join(words);
}

/// Whole seconds, at least 1.
long long
whole_seconds(std::chrono::milliseconds d)
{
  return std::max<long long>(1, (d.count() + 999) / 1000);
}

/// A local scratch directory, removed at scope exit.
class Scratch {
public:
  explicit Scratch(const fs::path& parent)
  {
    std::string tmpl = (parent / ".gpuctl-ssh-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) {
      throw Error(ErrorKind::failure,
                  fmt::format("cannot create a scratch directory in {}: {}", parent.string(),
                              std::error_code(errno, std::generic_category()).message()));
    }
    m_path = tmpl;
  }
  ~Scratch()
  {
    std::error_code ec;
    fs::remove_all(m_path, ec);
  }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  const fs::path& path() const { return m_path; }

private:
  fs::path m_path;
};

fs::path
local_tmp()
{
  const char* t = std::getenv("TMPDIR");
  return t != nullptr && *t ? fs::path(t) : fs::path("/tmp");
}

// The remote scripts. Each runs under `sh -c` with its inputs as positional parameters.

/// $1 remote dir, $2 key.
constexpr const char* kStatusScript = R"SH(d=$1; case $d in /*) ;; *) d=${HOME:-.}/$d ;; esac
cd -- "$d" 2>/dev/null && cd -- "$2" 2>/dev/null && [ -d started ] || { echo absent; exit 0; }
if [ -f exit ]; then echo "exited $(cat exit)"; exit 0; fi
if [ -s pid ]; then
  p=$(cat pid)
  if kill -s 0 -- "-$p" 2>/dev/null || kill -s 0 -- "$p" 2>/dev/null; then echo running; exit 0; fi
  i=0; while [ ! -f exit ] && [ $i -lt 20 ]; do sleep 0.05; i=$((i+1)); done
  if [ -f exit ]; then echo "exited $(cat exit)"; exit 0; fi
  echo vanished; exit 0
fi
echo starting
)SH";

/// $1 remote dir, $2 key, $3 first byte (1-based).
constexpr const char* kLogScript = R"SH(d=$1; case $d in /*) ;; *) d=${HOME:-.}/$d ;; esac
cd -- "$d" 2>/dev/null && cd -- "$2" 2>/dev/null && [ -f log ] || exit 0
exec tail -c +"$3" log
)SH";

/// $1 remote dir, $2 key.
constexpr const char* kFetchScript = R"SH(d=$1; case $d in /*) ;; *) d=${HOME:-.}/$d ;; esac
cd -- "$d" 2>/dev/null && cd -- "$2" 2>/dev/null && [ -d output ] || { echo "no output directory $d/$2/output" >&2; exit 3; }
if [ -f log ]; then exec tar -cf - output log; else exec tar -cf - output; fi
)SH";

/// $1 remote dir, $2 key, $3 grace in seconds.
constexpr const char* kKillScript = R"SH(d=$1; case $d in /*) ;; *) d=${HOME:-.}/$d ;; esac
cd -- "$d" 2>/dev/null && cd -- "$2" 2>/dev/null && [ -s pid ] && [ ! -f exit ] || exit 0
p=$(cat pid)
kill -s TERM -- "-$p" 2>/dev/null || exit 0
i=0; n=$(( $3 * 10 ))
while [ $i -lt $n ] && kill -s 0 -- "-$p" 2>/dev/null; do sleep 0.1; i=$((i+1)); done
kill -s KILL -- "-$p" 2>/dev/null
i=0; while [ ! -f exit ] && [ $i -lt 20 ]; do sleep 0.1; i=$((i+1)); done
exit 0
)SH";

/// Runs in the job's own session (started by setsid from the launcher), cwd KEY/: starts the
/// command ("$@") in a session of its own, so its pid is its process group for kill(), and
/// records pid and exit status atomically.
constexpr const char* kWrapperScript = R"SH(setsid -- "$@" </dev/null &
child=$!
echo "$child" >pid.tmp && mv -f pid.tmp pid
wait "$child"
code=$?
echo "$code" >exit.tmp && mv -f exit.tmp exit
)SH";

/// $1 remote dir, $2 key, $3 mode (argv|script), $4 timeout_s (0 = none), $5 kill grace in
/// seconds, $6 upload (1 = a tar stream on stdin); the job's argv follows. {ENV} is replaced by
/// `export NAME=VALUE` lines (names validated, values quoted), {WRAPPER} by the quoted wrapper.
constexpr const char* kLaunchScript = R"SH(set -u
dir=$1 key=$2 mode=$3 tmo=$4 grace=$5 upload=$6
shift 6
case $dir in /*) ;; *) dir=${HOME:-.}/$dir ;; esac
mkdir -p -- "$dir" && cd -- "$dir" || { echo "cannot create the job directory $dir" >&2; exit 3; }
mkdir -- "$key" 2>/dev/null || [ -d "$key" ] || { echo "cannot create $dir/$key" >&2; exit 3; }
if ! mkdir -- "$key/started" 2>/dev/null; then
  if [ -d "$key/started" ]; then echo gpuctl-launch:already-started; exit 0; fi
  echo "cannot create $dir/$key/started" >&2; exit 3
fi
cd -- "$key" || exit 3
here=$(pwd)
failed() { echo "gpuctl: $1" >>log; echo 126 >exit.tmp && mv -f exit.tmp exit; echo "$1" >&2; exit 4; }
mkdir -p input output || failed "cannot create input/ and output/ in $here"
if [ "$upload" = 1 ]; then
  tar -x --no-same-owner -i -f - || failed "unpacking the upload into $here failed"
fi
if [ "$mode" = script ]; then
  if [ "$(head -c 2 script)" = '#!' ]; then
    chmod +x script || failed "chmod +x $here/script failed"
    set -- ./script "$@"
  else
    set -- sh ./script "$@"
  fi
fi
[ $# -gt 0 ] || failed "no command to run"
if [ "$tmo" -gt 0 ]; then set -- timeout -k "$grace" "$tmo" "$@"; fi
GPUCTL_JOB_KEY=$key GPUCTL_INPUT_DIR=$here/input GPUCTL_OUTPUT_DIR=$here/output
export GPUCTL_JOB_KEY GPUCTL_INPUT_DIR GPUCTL_OUTPUT_DIR
{ENV}setsid sh -c {WRAPPER} sh "$@" </dev/null >>log 2>&1 &
i=0; while [ ! -s pid ] && [ ! -f exit ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done
echo gpuctl-launch:started
)SH";

std::string
replace_all(std::string s, std::string_view from, const std::string& to)
{
  for (std::size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) {
    s.replace(at, from.size(), to);
  }
  return s;
}

} // namespace

Target
parse_target(const std::string& s)
{
  if (s.empty()) {
    bad_target(s, "empty");
  }
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f) {
      bad_target(s, "control character");
    }
    if (c == ' ') {
      bad_target(s, "space");
    }
  }
  if (s[0] == '-') {
    bad_target(s, "leading '-'");
  }
  Target t;
  std::string_view rest = s;
  if (auto at = rest.find('@'); at != std::string_view::npos) {
    std::string_view user = rest.substr(0, at);
    rest.remove_prefix(at + 1);
    if (user.empty()) {
      bad_target(s, "empty user");
    }
    if (rest.find('@') != std::string_view::npos) {
      bad_target(s, "more than one '@'");
    }
    if (!std::all_of(user.begin(), user.end(), is_name_char)) {
      bad_target(s, "bad character in the user name");
    }
    t.user = std::string(user);
  }
  if (rest.empty()) {
    bad_target(s, "empty host");
  }
  if (rest[0] == '-') {
    bad_target(s, "host starts with '-'");
  }
  if (rest[0] == '[') {
    auto close = rest.find(']');
    if (close == std::string_view::npos) {
      bad_target(s, "missing ']'");
    }
    std::string_view host = rest.substr(1, close - 1);
    std::string_view after = rest.substr(close + 1);
    if (host.empty()) {
      bad_target(s, "empty host");
    }
    if (!std::all_of(host.begin(), host.end(), [](char c) {
          return std::isxdigit(static_cast<unsigned char>(c)) != 0 || c == ':' || c == '.' ||
                 c == '%' || is_name_char(c);
        }) ||
        host.find(':') == std::string_view::npos) {
      bad_target(s, "bad IPv6 address");
    }
    t.host = std::string(host);
    if (!after.empty()) {
      if (after[0] != ':') {
        bad_target(s, "unexpected text after ']'");
      }
      t.port = parse_port(s, after.substr(1));
    }
    return t;
  }
  auto colons = std::count(rest.begin(), rest.end(), ':');
  std::string_view host = rest;
  if (colons == 1) {
    auto c = rest.find(':');
    host = rest.substr(0, c);
    t.port = parse_port(s, rest.substr(c + 1));
  } else if (colons > 1) {
    // A bare IPv6 address: no port (write [addr]:port for one).
    if (!std::all_of(rest.begin(), rest.end(), [](char c) {
          return std::isxdigit(static_cast<unsigned char>(c)) != 0 || c == ':' || c == '.';
        })) {
      bad_target(s, "bad IPv6 address (write [addr]:port)");
    }
    t.host = std::string(rest);
    return t;
  }
  if (host.empty()) {
    bad_target(s, "empty host");
  }
  if (!std::all_of(host.begin(), host.end(), is_name_char)) {
    bad_target(s, "bad character in the host name");
  }
  t.host = std::string(host);
  return t;
}

std::string
to_string(const Target& t)
{
  std::string out = t.user.empty() ? "" : t.user + "@";
  if (t.host.find(':') != std::string::npos) {
    out += "[" + t.host + "]";
  } else {
    out += t.host;
  }
  return out + ":" + std::to_string(t.port);
}

std::string
shell_quote(std::string_view word)
{
  if (word.find('\0') != std::string_view::npos) {
    throw_usage("a command word contains a NUL byte: '{}'", printable(word));
  }
  if (word.empty()) {
    return "''";
  }
  bool safe = std::all_of(word.begin(), word.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 && static_cast<unsigned char>(c) < 0x80
               ? true
               : std::string_view("_@%+:,./-").find(c) != std::string_view::npos;
  });
  if (safe) {
    return std::string(word);
  }
  std::string out = "'";
  for (char c : word) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out.push_back(c);
    }
  }
  out.push_back('\'');
  return out;
}

std::string
shell_join(const std::vector<std::string>& words)
{
  std::string out;
  for (const auto& w : words) {
    if (!out.empty()) {
      out.push_back(' ');
    }
    out += shell_quote(w);
  }
  return out;
}

Options
options_from_env(Options base)
{
  if (const char* c = std::getenv("GPUCTL_SSH_CONFIG"); c != nullptr && *c) {
    base.config_file = c;
  }
  return base;
}

Probe
parse_nvidia_smi(const std::string& out)
{
  Probe p;
  double util_sum = 0, mem_sum = 0;
  int util_n = 0, mem_n = 0;
  auto number = [](std::string_view f, std::string_view unit) -> std::optional<double> {
    while (!f.empty() && std::isspace(static_cast<unsigned char>(f.front()))) {
      f.remove_prefix(1);
    }
    while (!f.empty() && std::isspace(static_cast<unsigned char>(f.back()))) {
      f.remove_suffix(1);
    }
    if (f.size() >= unit.size() && f.substr(f.size() - unit.size()) == unit) {
      f.remove_suffix(unit.size());
      while (!f.empty() && std::isspace(static_cast<unsigned char>(f.back()))) {
        f.remove_suffix(1);
      }
    }
    double v = 0;
    auto [ptr, ec] = std::from_chars(f.data(), f.data() + f.size(), v);
    if (f.empty() || ec != std::errc() || ptr != f.data() + f.size() || v < 0) {
      return std::nullopt; // "[N/A]", "[Not Supported]", garbage
    }
    return v;
  };
  std::size_t pos = 0;
  std::string first_bad;
  while (pos < out.size()) {
    auto nl = out.find('\n', pos);
    std::string_view line(out.data() + pos, (nl == std::string::npos ? out.size() : nl) - pos);
    pos = nl == std::string::npos ? out.size() : nl + 1;
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
    }
    if (line.find_first_not_of(" \t") == std::string_view::npos) {
      continue;
    }
    auto comma = line.find(',');
    if (comma == std::string_view::npos || line.find(',', comma + 1) != std::string_view::npos) {
      if (first_bad.empty()) {
        first_bad = std::string(line);
      }
      continue;
    }
    ++p.gpus;
    if (auto u = number(line.substr(0, comma), "%")) {
      util_sum += *u;
      ++util_n;
    }
    if (auto m = number(line.substr(comma + 1), "MiB")) {
      mem_sum += *m;
      ++mem_n;
    }
  }
  if (util_n > 0) {
    p.gpu_util = util_sum / util_n;
  }
  if (mem_n > 0) {
    p.memory_used_mib = mem_sum;
  }
  p.online = p.gpus > 0;
  if (!p.online) {
    p.error = first_bad.empty() ? "nvidia-smi listed no GPUs"
                                : "unexpected nvidia-smi output: " + last_line(first_bad);
  }
  return p;
}

Client::Client(Runner& runner, Options opts) : m_runner(runner), m_opts(std::move(opts)) {}

std::vector<std::string>
Client::ssh_argv(const Target& t, const std::string& remote_command) const
{
  std::vector<std::string> argv{m_opts.ssh};
  if (!m_opts.config_file.empty()) {
    argv.insert(argv.end(), {"-F", m_opts.config_file});
  }
  argv.insert(argv.end(), {"-o", "BatchMode=yes", "-o",
                           "ConnectTimeout=" + std::to_string(std::max(1, m_opts.connect_timeout_s)),
                           "-p", std::to_string(t.port)});
  if (m_opts.accept_new_host_keys) {
    argv.insert(argv.end(), {"-o", "StrictHostKeyChecking=accept-new"});
  }
  if (!t.identity.empty()) {
    argv.insert(argv.end(), {"-i", t.identity});
  }
  if (!t.user.empty()) {
    argv.insert(argv.end(), {"-l", t.user});
  }
  argv.insert(argv.end(), {"--", t.host, remote_command});
  return argv;
}

ProcessResult
Client::remote(const Target& t, const std::string& remote_command, const std::string& stdin_data)
{
  auto r = m_runner.run(ssh_argv(t, remote_command), m_opts.command_timeout, stdin_data);
  if (r.interrupted) {
    throw Error(ErrorKind::interrupted, fmt::format("ssh {}: interrupted", to_string(t)));
  }
  return r;
}

void
Client::fail(const Target& t, const std::string& what, const ProcessResult& r) const
{
  std::string reason;
  if (r.timed_out) {
    reason = fmt::format("timed out after {} s", whole_seconds(m_opts.command_timeout));
  } else {
    reason = last_line(r.err);
    if (reason.empty()) {
      reason = fmt::format("exit status {}", r.exit_code);
    }
  }
  throw Error(ErrorKind::provider, fmt::format("ssh {}: {}: {}", to_string(t), what, reason));
}

Probe
Client::probe(const Target& t)
{
  auto r = remote(t, shell_join({"nvidia-smi", "--query-gpu=utilization.gpu,memory.used",
                                 "--format=csv,noheader"}));
  Probe p;
  if (r.timed_out) {
    p.error = fmt::format("ssh timed out after {} s", whole_seconds(m_opts.command_timeout));
    return p;
  }
  if (r.exit_code == 255 || (r.exit_code == 127 && r.out.empty() && r.err.rfind(m_opts.ssh, 0) == 0)) {
    auto why = last_line(r.err);
    p.error = why.empty() ? "ssh failed (exit 255)" : why;
    return p;
  }
  if (r.exit_code != 0) {
    auto why = last_line(r.err);
    p.error = fmt::format("nvidia-smi failed (exit {}){}{}", r.exit_code, why.empty() ? "" : ": ",
                          why);
    return p;
  }
  return parse_nvidia_smi(r.out);
}

bool
Client::launch(const Target& t, const RemoteJob& job)
{
  check_key(job.key);
  if (job.script_file.empty() && job.argv.empty()) {
    throw_usage("job {}: nothing to run (no command and no script)", job.key);
  }
  if (job.timeout_s < 0) {
    throw_usage("job {}: negative timeout {}", job.key, job.timeout_s);
  }
  std::string env_lines;
  for (const auto& [name, value] : job.env) {
    check_env_name(name);
    env_lines += "export " + name + "=" + shell_quote(value) + "\n";
  }
  for (const auto& w : job.argv) {
    shell_quote(w); // NUL bytes: usage error before anything is sent
  }

  // The upload: one tar stream with `script` and `input/...`, unpacked by the launcher after
  // it took the start marker.
  std::string upload;
  if (!job.script_file.empty() || !job.input_dir.empty()) {
    std::vector<std::string> tar{"tar", "-cf", "-"};
    std::optional<Scratch> stage;
    if (!job.script_file.empty()) {
      std::error_code ec;
      if (!fs::is_regular_file(job.script_file, ec)) {
        throw_usage("job {}: script '{}' is not a readable file", job.key, job.script_file);
      }
      stage.emplace(local_tmp());
      if (!fs::copy_file(job.script_file, stage->path() / "script", ec)) {
        throw Error(ErrorKind::failure, fmt::format("job {}: cannot read script '{}': {}",
                                                    job.key, job.script_file, ec.message()));
      }
      tar.insert(tar.end(), {"-C", stage->path().string(), "script"});
    }
    if (!job.input_dir.empty()) {
      std::error_code ec;
      if (!fs::is_directory(job.input_dir, ec)) {
        throw_usage("job {}: input '{}' is not a directory", job.key, job.input_dir);
      }
      // Members of the input dir are "./..." → "input/..."; symlink targets stay as they are.
      tar.insert(tar.end(), {"--transform=s,^\\.,input,S", "-C",
                             fs::absolute(job.input_dir).string(), "."});
    }
    auto packed = m_runner.run(tar, m_opts.command_timeout);
    if (packed.interrupted) {
      throw Error(ErrorKind::interrupted, fmt::format("job {}: interrupted", job.key));
    }
    if (packed.exit_code != 0) {
      throw Error(ErrorKind::failure, fmt::format("job {}: packing the upload failed: {}",
                                                  job.key, last_line(packed.err)));
    }
    upload = std::move(packed.out);
  }

  std::string script = replace_all(kLaunchScript, "{ENV}", env_lines);
  script = replace_all(script, "{WRAPPER}", shell_quote(kWrapperScript));
  std::vector<std::string> args{m_opts.remote_dir,
                                job.key,
                                job.script_file.empty() ? "argv" : "script",
                                std::to_string(job.timeout_s),
                                std::to_string(whole_seconds(m_opts.kill_grace)),
                                upload.empty() ? "0" : "1"};
  args.insert(args.end(), job.argv.begin(), job.argv.end());
  auto r = remote(t, sh_command(script, args), upload);
  if (r.exit_code == 0 && r.out.find("gpuctl-launch:already-started") != std::string::npos) {
    return false;
  }
  if (r.exit_code == 0 && r.out.find("gpuctl-launch:started") != std::string::npos) {
    return true;
  }
  fail(t, fmt::format("starting job {}", job.key), r);
}

RunStatus
Client::status(const Target& t, const std::string& key)
{
  check_key(key);
  auto r = remote(t, sh_command(kStatusScript, {m_opts.remote_dir, key}));
  if (r.exit_code != 0 || r.timed_out) {
    fail(t, fmt::format("status of job {}", key), r);
  }
  std::string_view out = r.out;
  while (!out.empty() && std::isspace(static_cast<unsigned char>(out.back()))) {
    out.remove_suffix(1);
  }
  RunStatus s;
  if (out == "absent") {
    return s;
  }
  if (out == "running" || out == "starting") {
    s.state = RunState::running;
    return s;
  }
  if (out == "vanished") {
    s.state = RunState::exited;
    return s;
  }
  if (out.rfind("exited ", 0) == 0) {
    s.state = RunState::exited;
    auto num = out.substr(7);
    int code = 0;
    auto [ptr, ec] = std::from_chars(num.data(), num.data() + num.size(), code);
    if (ec == std::errc() && ptr == num.data() + num.size()) {
      s.exit_code = code;
    }
    return s;
  }
  throw Error(ErrorKind::provider, fmt::format("ssh {}: status of job {}: unexpected answer '{}'",
                                               to_string(t), key, last_line(std::string(out))));
}

std::string
Client::log(const Target& t, const std::string& key, std::int64_t offset)
{
  check_key(key);
  if (offset < 0) {
    throw_usage("job {}: negative log offset {}", key, offset);
  }
  auto r = remote(t, sh_command(kLogScript, {m_opts.remote_dir, key, std::to_string(offset + 1)}));
  if (r.exit_code != 0 || r.timed_out) {
    fail(t, fmt::format("log of job {}", key), r);
  }
  return std::move(r.out);
}

void
Client::fetch_output(const Target& t, const std::string& key, const std::string& dest_dir)
{
  check_key(key);
  fs::path dest = fs::absolute(dest_dir).lexically_normal();
  if (!dest.has_filename()) {
    dest = dest.parent_path();
  }
  const fs::path parent = dest.parent_path();
  auto r = remote(t, sh_command(kFetchScript, {m_opts.remote_dir, key}));
  if (r.exit_code != 0 || r.timed_out) {
    fail(t, fmt::format("fetching the output of job {}", key), r);
  }
  auto local_fail = [&](const std::string& what, const std::error_code& ec) {
    throw Error(ErrorKind::failure,
                fmt::format("job {}: {}: {}", key, what, ec ? ec.message() : std::string("failed")));
  };
  std::error_code ec;
  fs::create_directories(dest, ec);
  if (ec) {
    local_fail("cannot create " + dest.string(), ec);
  }
  Scratch stage(parent);
  auto x = m_runner.run({"tar", "-x", "--no-same-owner", "-f", "-", "-C", stage.path().string()},
                        m_opts.command_timeout, r.out);
  if (x.interrupted) {
    throw Error(ErrorKind::interrupted, fmt::format("job {}: interrupted", key));
  }
  if (x.exit_code != 0) {
    throw Error(ErrorKind::provider,
                fmt::format("ssh {}: fetching the output of job {}: unpacking failed: {}",
                            to_string(t), key, last_line(x.err)));
  }
  for (const auto& e : fs::directory_iterator(stage.path() / "output", ec)) {
    fs::path to = dest / e.path().filename();
    fs::remove_all(to, ec);
    fs::rename(e.path(), to, ec);
    if (ec) {
      local_fail("cannot write " + to.string(), ec);
    }
  }
  if (ec) {
    local_fail("cannot read the fetched output", ec);
  }
  if (fs::exists(stage.path() / "log", ec)) {
    fs::rename(stage.path() / "log", parent / "log", ec);
    if (ec) {
      local_fail("cannot write " + (parent / "log").string(), ec);
    }
  }
}

void
Client::kill(const Target& t, const std::string& key)
{
  check_key(key);
  auto grace = whole_seconds(m_opts.kill_grace);
  auto argv = ssh_argv(t, sh_command(kKillScript, {m_opts.remote_dir, key, std::to_string(grace)}));
  auto timeout = std::max(m_opts.command_timeout,
                          std::chrono::milliseconds((grace + 2) * 1000) +
                              std::chrono::seconds(std::max(1, m_opts.connect_timeout_s)) +
                              std::chrono::seconds(5));
  auto r = m_runner.run(argv, timeout);
  if (r.interrupted) {
    throw Error(ErrorKind::interrupted, fmt::format("ssh {}: interrupted", to_string(t)));
  }
  if (r.exit_code != 0 || r.timed_out) {
    fail(t, fmt::format("stopping job {}", key), r);
  }
}

} // namespace gpuctl::providers::ssh
