// SPDX-License-Identifier: MIT
#include "gpuctl/core/error.hpp"
#include "gpuctl/sched/backends.hpp"
#include "gpuctl/sched/snapshot.hpp"

#include <fmt/format.h>

#include <set>

namespace gpuctl::sched {

namespace {

class VastBackend final : public Backend {
public:
  VastBackend(store::Database& db, cloud::Env& env, providers::ssh::Runner& runner,
              providers::ssh::Options opts)
      : m_db(db), m_env(env)
  {
    opts.accept_new_host_keys = true;
    m_ssh = make_ssh_backend(runner, opts);
  }

  std::string cannot_run(const JobSpec& spec) const override
  {
    return sched::cannot_run("vast", spec);
  }
  bool session_per_job() const override { return false; }

  std::map<std::int64_t, Health> refresh(const std::vector<store::WorkerRow>& workers) override
  {
    auto rep = cloud::sync_workers(m_db, m_env, "", false);
    std::set<std::string> failed;
    for (const auto& a : rep.accounts) {
      if (a.error) {
        failed.insert(a.name);
      }
    }
    std::map<std::int64_t, Health> out;
    for (const auto& w : workers) {
      Health h;
      h.reached = !failed.count(w.account);
      h.gpu_util = w.gpu_util;
      if (!h.reached) {
        h.error = "the vast.ai listing of account " + w.account + " failed";
      }
      out[w.id] = h;
    }
    return out;
  }
  nlohmann::json launch(const RunContext& r) override
  {
    need_address(r);
    return m_ssh->launch(r);
  }
  Observation observe(const RunContext& r) override
  {
    need_address(r);
    return m_ssh->observe(r);
  }
  void collect(const RunContext& r, const std::string& dir) override
  {
    need_address(r);
    m_ssh->collect(r, dir);
  }
  std::string log(const RunContext& r, std::int64_t offset) override
  {
    need_address(r);
    return m_ssh->log(r, offset);
  }
  void stop(const RunContext& r) override
  {
    need_address(r);
    m_ssh->stop(r);
  }

private:
  /// A running instance has an ssh address once the listing reported it.
  static void need_address(const RunContext& r)
  {
    if (!r.worker.host || r.worker.host->empty()) {
      throw Error(ErrorKind::provider,
                  fmt::format("vast.ai worker '{}' has no ssh address yet (is its instance "
                              "running? 'gpuctl worker sync' records it)",
                              r.worker.name));
    }
  }

  store::Database& m_db;
  cloud::Env& m_env;
  std::unique_ptr<Backend> m_ssh;
};

} // namespace

std::unique_ptr<Backend>
make_vast_backend(store::Database& db, cloud::Env& env, providers::ssh::Runner& runner,
                  providers::ssh::Options opts)
{
  return std::make_unique<VastBackend>(db, env, runner, std::move(opts));
}

} // namespace gpuctl::sched
