// SPDX-License-Identifier: MIT
// The back ends the gpuctl binary runs jobs with (sched/backend.hpp).
#pragma once
#include "gpuctl/cloud/cloud.hpp"
#include "gpuctl/providers/ssh/client.hpp"
#include "gpuctl/sched/backend.hpp"
#include "gpuctl/store/database.hpp"

#include <memory>

namespace gpuctl::sched {

/// Kaggle: a job is a kernel version pushed to the worker's account as the kernel
/// `<owner>/gpuctl-<dispatch_key>` with the GPU on and sessionTimeoutSeconds = the run limit
/// (specs/kaggle-api.md §3, §3.6); its status is GetKernelSessionStatus (§4, 404 = gone); its log
/// and output files are fetched when it ends (§5). Health = one ListKernels call per account.
/// Kaggle cannot stop a run (§8): stop() throws Error(conflict).
std::unique_ptr<Backend> make_kaggle_backend(store::Database& db, cloud::Env& env);

/// ssh: a job is a detached process in ~/.gpuctl/jobs/<dispatch_key> on the worker's host
/// (providers/ssh/client.hpp), started at most once per key (an atomic marker). The host is the
/// worker's --host plus the identity file in its spec_json ("identity"). Health = one
/// nvidia-smi probe per host, at most 8 at a time; reached = nvidia-smi answered. A launch whose
/// ssh call failed looks for the marker: found → started; not found → refused; host unreachable
/// → net::CallError(maybe_delivered) so the next tick looks again. Outputs are fetched into the
/// job dir, the log as `dir`/log. stop() = SIGTERM, then SIGKILL after Options::kill_grace.
/// `runner` must outlive the back end.
std::unique_ptr<Backend> make_ssh_backend(providers::ssh::Runner& runner,
                                          providers::ssh::Options opts);

/// Where an ssh worker is reached: its --host plus the identity file stored at `worker add`.
/// Throws Error(usage) for a worker without a host.
providers::ssh::Target ssh_target(const store::WorkerRow& w);

} // namespace gpuctl::sched

namespace gpuctl::sched {

/// vast.ai: health is one paginated listing per account (cloud::sync_workers, which records
/// state, price, util and the instance's ssh address `root@ssh_host:ssh_port` itself; an account
/// whose listing failed reaches none of its workers). Jobs run over ssh to that address exactly
/// as on ssh workers (`ssh` back end, host keys accepted when new and refused when changed:
/// instances get new keys with every rent). `runner` must outlive the back end.
std::unique_ptr<Backend> make_vast_backend(store::Database& db, cloud::Env& env,
                                           providers::ssh::Runner& runner,
                                           providers::ssh::Options opts);

} // namespace gpuctl::sched
