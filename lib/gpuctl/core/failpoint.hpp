// SPDX-License-Identifier: MIT
#pragma once

namespace gpuctl {

/// Kills the process with SIGKILL when this is a test build (GPUCTL_TEST_HOOKS) and
/// GPUCTL_FAILPOINT equals `name`, so crash tests stop at an exact point instead of racing a
/// timer (DESIGN §11). Points: rent-before-create, rent-after-create, start-after-call,
/// stop-after-call, destroy-after-call. A no-op in release builds without hooks.
void failpoint(const char* name);

} // namespace gpuctl
