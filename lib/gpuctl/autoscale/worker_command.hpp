// SPDX-License-Identifier: MIT
// The command that starts a Dask worker on a machine gpuctl brings into the cluster
// (../shared/specs/dask-http.md §4.1): `dask worker SCHEDULER --name gpuctl-<worker> --no-nanny
// --resources GPU=N`, retried until it exits 0 (Dask retired it, or the scheduler closed), and on
// vast.ai `--listen-address`/`--contact-address` on the instance's opened identity port so a
// scheduler can reach a machine behind NAT (vast-api.md §3.1 "identity ports", §10).
#pragma once
#include <string>

namespace gpuctl::autoscale {

/// The port gpuctl opens on rented instances: `-p 70000:70000` asks vast.ai for a random external
/// port mapped to the same internal number, given to the instance as VAST_TCP_PORT_70000.
inline constexpr const char* k_identity_port_env = "-p 70000:70000";

/// Throws Error(usage) unless `address` is `tcp://HOST:PORT` or `tls://HOST:PORT` (HOST a name,
/// an IPv4 address or a bracketed IPv6 address; PORT 1–65535).
void validate_scheduler_address(const std::string& address);

/// The onstart script of a rented (or re-rented) vast.ai instance: starts the retry loop in the
/// background, logging to /tmp/gpuctl-dask/worker.log. `gpus` = the GPU resource it announces.
std::string vast_onstart(const std::string& scheduler, const std::string& worker, int gpus);

/// The foreground retry loop for an ssh machine (run detached by the ssh back end): no contact
/// address, Dask picks the interface that reaches the scheduler.
std::string ssh_script(const std::string& scheduler, const std::string& worker, int gpus);

} // namespace gpuctl::autoscale
