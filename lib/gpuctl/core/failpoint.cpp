// SPDX-License-Identifier: MIT
#include "gpuctl/core/failpoint.hpp"

#include <csignal>
#include <cstdlib>
#include <cstring>
#include <unistd.h>

namespace gpuctl {

void
failpoint([[maybe_unused]] const char* name)
{
#ifdef GPUCTL_TEST_HOOKS
  const char* want = std::getenv("GPUCTL_FAILPOINT");
  if (want != nullptr && std::strcmp(want, name) == 0) {
    ::kill(::getpid(), SIGKILL);
  }
#endif
}

} // namespace gpuctl
