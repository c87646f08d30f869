// SPDX-License-Identifier: MIT
#pragma once

namespace gpuctl::net {

/// Installs SIGINT/SIGTERM handlers that only raise a flag (idempotent). Network commands call it
/// before their first request, so a signal cuts waits and transfers short at a safe point (and
/// never in the middle of a state-file transaction) instead of killing the process.
void install_interrupt_handlers();

/// Whether SIGINT or SIGTERM arrived since install_interrupt_handlers().
bool interrupted();

/// A descriptor that becomes readable when the flag is raised (for poll), or -1 before install.
int interrupt_fd();

} // namespace gpuctl::net
