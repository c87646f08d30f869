// SPDX-License-Identifier: MIT
#include "app.hpp"

#include "gpuctl/sched/backends.hpp"
#include "gpuctl/sched/snapshot.hpp"

#include <algorithm>

namespace gpuctl::app {

namespace {

/// A back end built on first use, so the network environment (and libcurl) is loaded only when
/// a provider is really called (DESIGN §2).
class Lazy final : public sched::Backend {
public:
  using Make = std::function<std::unique_ptr<sched::Backend>(store::Database&, cloud::Env&)>;
  Lazy(Context& c, store::Database& d, std::string p, Make m)
      : m_ctx(c), m_db(d), m_provider(std::move(p)), m_make(std::move(m))
  {
  }
  std::string cannot_run(const sched::JobSpec& s) const override
  {
    return sched::cannot_run(m_provider, s);
  }
  bool session_per_job() const override { return sched::session_per_job(m_provider); }
  std::map<std::int64_t, sched::Health> refresh(const std::vector<store::WorkerRow>& w) override
  {
    return get().refresh(w);
  }
  nlohmann::json launch(const sched::RunContext& r) override { return get().launch(r); }
  sched::Observation observe(const sched::RunContext& r) override { return get().observe(r); }
  void collect(const sched::RunContext& r, const std::string& d) override { get().collect(r, d); }
  void stop(const sched::RunContext& r) override { get().stop(r); }
  std::string log(const sched::RunContext& r, std::int64_t offset) override
  {
    return get().log(r, offset);
  }

private:
  sched::Backend& get()
  {
    if (!m_real) {
      m_real = m_make(m_db, m_ctx.cloud());
    }
    return *m_real;
  }
  Context& m_ctx;
  store::Database& m_db;
  std::string m_provider;
  Make m_make;
  std::unique_ptr<sched::Backend> m_real;
};

} // namespace

JobBackends::JobBackends(Context& ctx, store::Database& db)
{
  // ssh: the OpenSSH client (GPUCTL_SSH_CONFIG → -F FILE), connect timeout from
  // net.connect_timeout (at most 10 s, so one dead host does not stall the tick).
  m_runner = providers::ssh::make_process_runner();
  providers::ssh::Options opts = providers::ssh::options_from_env();
  opts.connect_timeout_s = static_cast<int>(
      std::clamp<std::int64_t>(ctx.config().get_duration("net.connect_timeout").count(), 1, 10));
  m_opts = opts;
  m_ssh = sched::make_ssh_backend(*m_runner, opts);
  m_kaggle = std::make_unique<Lazy>(ctx, db, "kaggle", &sched::make_kaggle_backend);
  m_vast = std::make_unique<Lazy>(ctx, db, "vast",
                                  [this, opts](store::Database& d, cloud::Env& e) {
                                    return sched::make_vast_backend(d, e, *m_runner, opts);
                                  });
}

JobBackends::~JobBackends() = default;

autoscale::SshHooks
JobBackends::ssh_hooks() const
{
  autoscale::SshHooks h;
  auto client = std::make_shared<providers::ssh::Client>(*m_runner, m_opts);
  h.start = [client](const store::WorkerRow& w, const std::string& key, const std::string& script) {
    providers::ssh::RemoteJob job;
    job.key = key;
    job.argv = {"sh", "-c", script};
    client->launch(sched::ssh_target(w), job);
  };
  h.stop = [client](const store::WorkerRow& w, const std::string& key) {
    client->kill(sched::ssh_target(w), key);
  };
  return h;
}

std::map<std::string, sched::Backend*>
JobBackends::map() const
{
  return {{"kaggle", m_kaggle.get()}, {"vast", m_vast.get()}, {"ssh", m_ssh.get()}};
}

} // namespace gpuctl::app
