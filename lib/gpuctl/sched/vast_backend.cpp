// SPDX-License-Identifier: MIT
#include "gpuctl/core/error.hpp"
#include "gpuctl/sched/backends.hpp"

#include <set>

namespace gpuctl::sched {

namespace {

class VastBackend final : public Backend {
public:
  VastBackend(store::Database& db, cloud::Env& env) : m_db(db), m_env(env) {}

  std::string cannot_run(const JobSpec&) const override
  {
    return "running jobs on vast.ai instances is not supported yet (use an ssh worker on the "
           "instance's ssh address)";
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
  nlohmann::json launch(const RunContext&) override { throw_usage("{}", cannot_run({})); }
  Observation observe(const RunContext&) override { throw_usage("{}", cannot_run({})); }
  void collect(const RunContext&, const std::string&) override { throw_usage("{}", cannot_run({})); }
  void stop(const RunContext&) override { throw_usage("{}", cannot_run({})); }

private:
  store::Database& m_db;
  cloud::Env& m_env;
};

} // namespace

std::unique_ptr<Backend>
make_vast_backend(store::Database& db, cloud::Env& env)
{
  return std::make_unique<VastBackend>(db, env);
}

} // namespace gpuctl::sched
