// SPDX-License-Identifier: MIT
#include "gpuctl/net/interrupt.hpp"

#include <atomic>
#include <csignal>
#include <fcntl.h>
#include <unistd.h>

namespace gpuctl::net {

namespace {

std::atomic<bool> g_flag{false};
int g_pipe[2] = {-1, -1};

extern "C" void
on_signal(int)
{
  g_flag.store(true);
  if (g_pipe[1] >= 0) {
    char c = 1;
    [[maybe_unused]] auto n = write(g_pipe[1], &c, 1); // async-signal-safe
  }
}

} // namespace

void
install_interrupt_handlers()
{
  if (g_pipe[0] >= 0) {
    return;
  }
  if (pipe2(g_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
    g_pipe[0] = g_pipe[1] = -1;
  }
  struct sigaction sa = {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

bool
interrupted()
{
  return g_flag.load();
}

int
interrupt_fd()
{
  return g_pipe[0];
}

} // namespace gpuctl::net
