// SPDX-License-Identifier: MIT
#include "support/support.hpp"

#include <doctest/doctest.h>

#include <cerrno>
#include <fcntl.h>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <poll.h>
#include <spawn.h>
#include <sstream>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace gpuctl::test {

TempDir::TempDir()
{
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base != nullptr && *base ? base : "/tmp") + "/gpuctl-test-XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (::mkdtemp(buf.data()) == nullptr) {
    throw std::runtime_error("mkdtemp failed");
  }
  m_path = buf.data();
}

TempDir::~TempDir()
{
  const char* keep = std::getenv("GPUCTL_KEEP_TEST_DIRS");
  if (keep == nullptr || std::string(keep) != "1") {
    std::error_code ec;
    std::filesystem::remove_all(m_path, ec);
  }
}

nlohmann::json
RunResult::json() const
{
  try {
    return nlohmann::json::parse(out);
  } catch (const std::exception& e) {
    FAIL("stdout is not JSON: " << e.what() << "\n--- stdout:\n" << out << "\n--- stderr:\n" << err);
  }
  return nullptr;
}

Cli::Cli()
{
  env["HOME"] = m_dir.path() + "/home";
  env["XDG_STATE_HOME"] = m_dir.path() + "/home/.local/state";
  env["XDG_CONFIG_HOME"] = m_dir.path() + "/home/.config";
  env["XDG_DATA_HOME"] = m_dir.path() + "/home/.local/share";
  env["GPUCTL_NOW"] = "2026-11-30T08:00:00Z";
  env["TZ"] = "UTC";
  env["PATH"] = "/usr/bin:/bin";
  std::filesystem::create_directories(m_dir.path() + "/home");
}

std::string
Cli::db_path() const
{
  return env.at("XDG_STATE_HOME") + "/gpuctl/state.db";
}

namespace {

std::vector<char*>
make_argv(std::vector<std::string>& storage)
{
  std::vector<char*> out;
  for (auto& s : storage) {
    out.push_back(s.data());
  }
  out.push_back(nullptr);
  return out;
}

/// Starts argv[0] (a path, or a name looked up in env's PATH) with exactly `env`; stdin is
/// /dev/null, stdout and stderr go to the given descriptors (-1 = /dev/null).
int
spawn_prog(const std::vector<std::string>& args, const std::map<std::string, std::string>& env,
           int out_fd, int err_fd)
{
  std::vector<std::string> argv_s = args;
  std::vector<std::string> env_s;
  for (const auto& [k, v] : env) {
    env_s.push_back(k + "=" + v);
  }
  // posix_spawn does not search PATH, and posix_spawnp would search the caller's: use env's.
  std::string& prog = argv_s.at(0);
  if (prog.find('/') == std::string::npos) {
    auto it = env.find("PATH");
    std::stringstream dirs(it == env.end() ? "/usr/bin:/bin" : it->second);
    std::string d;
    while (std::getline(dirs, d, ':')) {
      if (::access((d + "/" + prog).c_str(), X_OK) == 0) {
        prog = d + "/" + prog;
        break;
      }
    }
  }
  auto argv = make_argv(argv_s);
  auto envp = make_argv(env_s);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  if (out_fd >= 0) {
    posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
  } else {
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  }
  if (err_fd >= 0) {
    posix_spawn_file_actions_adddup2(&fa, err_fd, 2);
  } else {
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  }
  pid_t pid = 0;
  int rc = posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) {
    throw std::runtime_error("posix_spawn " + argv_s[0] + ": " + std::strerror(rc));
  }
  return pid;
}

int
spawn_with(const std::vector<std::string>& args, const std::map<std::string, std::string>& env,
           int out_fd, int err_fd)
{
  std::vector<std::string> argv{GPUCTL_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  return spawn_prog(argv, env, out_fd, err_fd);
}

/// Runs `start(out_fd, err_fd)`'s process to its end, capturing stdout, stderr and the exit code.
template <typename Start>
RunResult
capture(Start start)
{
  int out_pipe[2], err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0 || ::pipe2(err_pipe, O_CLOEXEC) != 0) {
    throw std::runtime_error("pipe failed");
  }
  int pid = -1;
  try {
    pid = start(out_pipe[1], err_pipe[1]);
  } catch (...) {
    for (int fd : {out_pipe[0], out_pipe[1], err_pipe[0], err_pipe[1]}) {
      ::close(fd);
    }
    throw;
  }
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  RunResult r;
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  int open_fds = 2;
  char buf[65536];
  while (open_fds > 0) {
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd >= 0 && (fds[i].revents & (POLLIN | POLLHUP))) {
        ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
        if (n <= 0) {
          ::close(fds[i].fd);
          fds[i].fd = -1;
          --open_fds;
        } else {
          (i == 0 ? r.out : r.err).append(buf, static_cast<size_t>(n));
        }
      }
    }
  }
  r.code = wait_exit(pid);
  return r;
}

} // namespace

RunResult
run_prog(const std::vector<std::string>& args, const std::map<std::string, std::string>& env)
{
  return capture([&](int out, int err) { return spawn_prog(args, env, out, err); });
}

int
spawn_gpuctl(const std::vector<std::string>& args, const std::map<std::string, std::string>& env)
{
  return spawn_with(args, env, -1, -1);
}

int
wait_exit(int pid)
{
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status)) {
    return WEXITSTATUS(status);
  }
  return 128 + WTERMSIG(status);
}

RunResult
Cli::run(const std::vector<std::string>& args, const std::map<std::string, std::string>& extra) const
{
  Cli& self = const_cast<Cli&>(*this);
  auto saved = env;
  for (const auto& [k, v] : extra) {
    self.env[k] = v;
  }
  RunResult r = run(args);
  self.env = saved;
  return r;
}

RunResult
Cli::run(const std::vector<std::string>& args) const
{
  return capture([&](int out, int err) { return spawn_with(args, env, out, err); });
}

RunResult
Cli::ok(const std::vector<std::string>& args) const
{
  RunResult r = run(args);
  std::string line;
  for (const auto& a : args) {
    line += " " + a;
  }
  INFO("gpuctl" << line << "\nstdout: " << r.out << "\nstderr: " << r.err);
  REQUIRE(r.code == 0);
  return r;
}

std::string
read_file(const std::string& path)
{
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return {};
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void
write_file(const std::string& path, const std::string& text)
{
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream out(path, std::ios::binary);
  out << text;
}

int
file_mode(const std::string& path)
{
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return -1;
  }
  return static_cast<int>(st.st_mode & 07777);
}

unsigned long long
file_hash(const std::string& path)
{
  std::string s = read_file(path);
  if (s.empty()) {
    return 0;
  }
  unsigned long long h = 1469598103934665603ULL;
  for (unsigned char c : s) {
    h = (h ^ c) * 1099511628211ULL;
  }
  return h;
}

} // namespace gpuctl::test
