// SPDX-License-Identifier: MIT
#include "gpuctl/providers/ssh/process.hpp"

#include "gpuctl/core/error.hpp"
#include "gpuctl/net/interrupt.hpp"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace gpuctl::providers::ssh {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

/// Closes a descriptor once.
struct Fd {
  int fd = -1;
  Fd() = default;
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }
  void reset()
  {
    if (fd >= 0) {
      ::close(fd);
      fd = -1;
    }
  }
};

bool
make_pipe(Fd& r, Fd& w)
{
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) {
    return false;
  }
  r.fd = p[0];
  w.fd = p[1];
  return true;
}

/// Blocks SIGPIPE in this thread while feeding the child's stdin, so a child that exits without
/// reading gives EPIPE instead of killing gpuctl; a pending SIGPIPE is discarded on the way out.
class SigpipeBlock {
public:
  SigpipeBlock()
  {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &set, &m_old);
  }
  ~SigpipeBlock()
  {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    sigset_t pending;
    sigpending(&pending);
    if (sigismember(&pending, SIGPIPE) == 1 && sigismember(&m_old, SIGPIPE) == 0) {
      timespec zero = {0, 0};
      while (sigtimedwait(&set, nullptr, &zero) == SIGPIPE) {
      }
    }
    pthread_sigmask(SIG_SETMASK, &m_old, nullptr);
  }

private:
  sigset_t m_old;
};

/// Reads what is available now; false at EOF or on an error other than EAGAIN.
bool
drain(int fd, std::string& into)
{
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n > 0) {
      into.append(buf, static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      return true;
    }
    return false;
  }
}

int
decode_status(int status)
{
  if (WIFEXITED(status)) {
    return WEXITSTATUS(status);
  }
  if (WIFSIGNALED(status)) {
    return 128 + WTERMSIG(status);
  }
  return -1;
}

class ProcessRunner final : public Runner {
public:
  ProcessResult run(const std::vector<std::string>& argv, milliseconds timeout,
                    const std::string& stdin_data) override;
};

ProcessResult
ProcessRunner::run(const std::vector<std::string>& argv, milliseconds timeout,
                   const std::string& stdin_data)
{
  if (argv.empty()) {
    throw Error(ErrorKind::usage, "internal: empty argv for a local program");
  }
  ProcessResult result;
  Fd in_r, in_w, out_r, out_w, err_r, err_w;
  if (!make_pipe(out_r, out_w) || !make_pipe(err_r, err_w) ||
      (!stdin_data.empty() && !make_pipe(in_r, in_w))) {
    result.exit_code = 127;
    result.err = std::string("pipe: ") + std::strerror(errno);
    return result;
  }

  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  if (stdin_data.empty()) {
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  } else {
    posix_spawn_file_actions_adddup2(&fa, in_r.fd, 0);
  }
  posix_spawn_file_actions_adddup2(&fa, out_w.fd, 1);
  posix_spawn_file_actions_adddup2(&fa, err_w.fd, 2);

  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t empty;
  sigemptyset(&empty);
  sigset_t defaults;
  sigemptyset(&defaults);
  for (int s : {SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT}) {
    sigaddset(&defaults, s);
  }
  posix_spawnattr_setsigmask(&attr, &empty);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
                                      POSIX_SPAWN_SETPGROUP);

  std::vector<std::string> storage(argv);
  std::vector<char*> cargv;
  for (auto& s : storage) {
    cargv.push_back(s.data());
  }
  cargv.push_back(nullptr);

  SigpipeBlock sigpipe_block; // before the spawn: the child gets its own (empty) mask anyway
  pid_t pid = -1;
  int rc = posix_spawnp(&pid, cargv[0], &fa, &attr, cargv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    result.exit_code = 127;
    result.err = argv[0] + ": " + std::strerror(rc) + "\n";
    return result;
  }
  in_r.reset();
  out_w.reset();
  err_w.reset();
  for (int fd : {in_w.fd, out_r.fd, err_r.fd}) {
    if (fd >= 0) {
      ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
    }
  }

  const auto start = Clock::now();
  const auto deadline = start + timeout;
  std::size_t written = 0;
  if (stdin_data.empty()) {
    in_w.reset();
  }
  bool out_open = true, err_open = true;
  bool exited = false;
  int status = 0;
  // Why the child is being stopped, and when SIGKILL follows the SIGTERM.
  bool stopping = false;
  Clock::time_point kill_at{};
  constexpr milliseconds kGrace{2000};

  auto stop = [&](bool& flag) {
    flag = true;
    stopping = true;
    ::kill(-pid, SIGTERM);
    ::kill(pid, SIGTERM);
    kill_at = Clock::now() + kGrace;
  };

  while (!exited) {
    if (!stopping) {
      if (net::interrupted()) {
        stop(result.interrupted);
      } else if (Clock::now() >= deadline) {
        stop(result.timed_out);
      }
    } else if (Clock::now() >= kill_at) {
      ::kill(-pid, SIGKILL);
      ::kill(pid, SIGKILL);
      kill_at = Clock::time_point::max();
    }

    pollfd fds[4];
    int n = 0;
    int i_out = -1, i_err = -1, i_in = -1;
    if (out_open) {
      i_out = n;
      fds[n++] = {out_r.fd, POLLIN, 0};
    }
    if (err_open) {
      i_err = n;
      fds[n++] = {err_r.fd, POLLIN, 0};
    }
    if (in_w.fd >= 0) {
      i_in = n;
      fds[n++] = {in_w.fd, POLLOUT, 0};
    }
    if (net::interrupt_fd() >= 0 && !stopping) {
      fds[n++] = {net::interrupt_fd(), POLLIN, 0};
    }
    // Wake up at the deadline, at the SIGKILL time, and every 50 ms to notice an exit while a
    // grandchild keeps the pipes open.
    auto now = Clock::now();
    auto next = std::min(now + milliseconds(50), stopping ? kill_at : deadline);
    int wait_ms = static_cast<int>(
        std::max<long long>(0, std::chrono::duration_cast<milliseconds>(next - now).count()));
    if (!out_open && !err_open && in_w.fd < 0) {
      wait_ms = std::min(wait_ms, 10);
    }
    int pr = ::poll(fds, static_cast<nfds_t>(n), wait_ms);
    if (pr < 0 && errno != EINTR) {
      break;
    }
    if (pr > 0) {
      if (i_out >= 0 && (fds[i_out].revents & (POLLIN | POLLHUP | POLLERR))) {
        out_open = drain(out_r.fd, result.out);
      }
      if (i_err >= 0 && (fds[i_err].revents & (POLLIN | POLLHUP | POLLERR))) {
        err_open = drain(err_r.fd, result.err);
      }
      if (i_in >= 0 && fds[i_in].revents) {
        if (fds[i_in].revents & (POLLERR | POLLHUP)) {
          in_w.reset();
        } else {
          ssize_t w = ::write(in_w.fd, stdin_data.data() + written, stdin_data.size() - written);
          if (w > 0) {
            written += static_cast<std::size_t>(w);
            if (written == stdin_data.size()) {
              in_w.reset();
            }
          } else if (w < 0 && errno != EAGAIN && errno != EINTR) {
            in_w.reset(); // EPIPE: the child stopped reading
          }
        }
      }
    }
    pid_t w = ::waitpid(pid, &status, WNOHANG);
    if (w == pid) {
      exited = true;
    } else if (w < 0 && errno != EINTR) {
      exited = true;
      status = -1;
    }
  }
  // What the child wrote before it exited is still in the pipes.
  if (out_open) {
    drain(out_r.fd, result.out);
  }
  if (err_open) {
    drain(err_r.fd, result.err);
  }
  // When it was stopped, whatever it left behind in its group goes too.
  if (stopping) {
    ::kill(-pid, SIGKILL);
  }
  result.exit_code = status == -1 ? -1 : decode_status(status);
  return result;
}

} // namespace

std::unique_ptr<Runner>
make_process_runner()
{
  return std::make_unique<ProcessRunner>();
}

} // namespace gpuctl::providers::ssh
