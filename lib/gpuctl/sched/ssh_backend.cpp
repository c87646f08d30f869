// SPDX-License-Identifier: MIT
#include "gpuctl/core/error.hpp"
#include "gpuctl/net/caller.hpp"
#include "gpuctl/sched/backends.hpp"
#include "gpuctl/sched/snapshot.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <exception>
#include <filesystem>
#include <mutex>
#include <thread>

namespace gpuctl::sched {

providers::ssh::Target
ssh_target(const store::WorkerRow& w)
{
  if (!w.host || w.host->empty()) {
    throw Error(ErrorKind::usage, fmt::format("ssh worker '{}' has no host", w.name));
  }
  auto t = providers::ssh::parse_target(*w.host);
  auto spec = nlohmann::json::parse(w.spec_json, nullptr, false);
  if (spec.is_object() && spec.contains("identity") && spec["identity"].is_string()) {
    t.identity = spec["identity"].get<std::string>();
  }
  return t;
}

namespace {

namespace ssh = providers::ssh;
namespace fs = std::filesystem;
using json = nlohmann::json;

/// At most this many hosts are probed at once.
constexpr std::size_t k_probe_threads = 8;

ssh::Target
target_of(const store::WorkerRow& w)
{
  return ssh_target(w);
}

class SshBackend final : public Backend {
public:
  SshBackend(ssh::Runner& runner, ssh::Options opts) : m_runner(runner), m_opts(std::move(opts)) {}

  std::string cannot_run(const JobSpec& spec) const override { return sched::cannot_run("ssh", spec); }

  bool session_per_job() const override { return false; }

  std::map<std::int64_t, Health> refresh(const std::vector<store::WorkerRow>& workers) override
  {
    std::vector<Health> results(workers.size());
    std::atomic<std::size_t> next{0};
    std::atomic<bool> interrupted{false};
    std::mutex mu;
    std::exception_ptr failure;
    auto work = [&] {
      ssh::Client client(m_runner, m_opts);
      for (;;) {
        std::size_t i = next.fetch_add(1);
        if (i >= workers.size() || interrupted.load()) {
          return;
        }
        Health& h = results[i];
        try {
          auto p = client.probe(target_of(workers[i]));
          h.reached = p.online;
          h.gpu_util = p.gpu_util;
          h.error = p.error;
        } catch (const Error& e) {
          if (e.kind() == ErrorKind::interrupted) {
            interrupted = true;
            std::lock_guard lock(mu);
            if (!failure) {
              failure = std::current_exception();
            }
            return;
          }
          h.error = e.what(); // e.g. a stored host that no longer parses
        } catch (const std::exception& e) {
          h.error = e.what();
        }
      }
    };
    std::size_t n = std::min(k_probe_threads, workers.size());
    if (n <= 1) {
      work();
    } else {
      std::vector<std::thread> threads;
      threads.reserve(n);
      for (std::size_t i = 0; i < n; ++i) {
        threads.emplace_back(work);
      }
      for (auto& t : threads) {
        t.join();
      }
    }
    if (failure) {
      std::rethrow_exception(failure);
    }
    std::map<std::int64_t, Health> out;
    for (std::size_t i = 0; i < workers.size(); ++i) {
      out[workers[i].id] = results[i];
    }
    return out;
  }

  json launch(const RunContext& r) override
  {
    ssh::Target t = target_of(r.worker);
    ssh::RemoteJob job;
    job.key = r.key;
    job.argv = r.spec.argv;
    if (r.spec.kind == "script") {
      job.script_file = r.spec.file;
    }
    job.input_dir = r.spec.input_dir;
    job.timeout_s = r.timeout_s;
    json detail = {{"host", ssh::to_string(t)}};
    ssh::Client c = client();
    try {
      if (!c.launch(t, job)) {
        detail["already_started"] = true; // an earlier attempt with this key started it
      }
      return detail;
    } catch (const Error& e) {
      if (e.kind() != ErrorKind::provider) {
        throw; // usage (bad job), interrupted: nothing more to learn
      }
      // ssh failed: did the run start before the connection went? The marker says.
      ssh::RunStatus st;
      try {
        st = c.status(t, r.key);
      } catch (const Error& e2) {
        if (e2.kind() == ErrorKind::interrupted) {
          throw;
        }
        // Unknown: keep the intent open, the next tick observes the key.
        throw net::CallError(e.what(), 0, true);
      }
      if (st.state == ssh::RunState::absent) {
        throw; // never started: the dispatch is refused and the job queued again
      }
      detail["launch_error"] = e.what();
      return detail;
    }
  }

  Observation observe(const RunContext& r) override
  {
    auto st = client().status(target_of(r.worker), r.key);
    Observation o;
    switch (st.state) {
    case ssh::RunState::absent:
      o.phase = Phase::absent;
      break;
    case ssh::RunState::running:
      o.phase = Phase::running;
      break;
    case ssh::RunState::exited:
      if (!st.exit_code) {
        o.phase = Phase::failed;
        o.message = "the run vanished without an exit status";
      } else if (*st.exit_code == 0) {
        o.phase = Phase::succeeded;
        o.exit_code = 0;
      } else {
        o.phase = Phase::failed;
        o.exit_code = st.exit_code;
        if (*st.exit_code == 124 && r.timeout_s > 0) {
          o.message = fmt::format("killed after its run limit of {} s", r.timeout_s);
        }
      }
      break;
    }
    return o;
  }

  void collect(const RunContext& r, const std::string& dir) override
  {
    // fetch_output writes the files into DEST and the log beside DEST: fetch into a scratch
    // dir inside `dir`, then move the files into `dir` and the log to `dir`/log.
    fs::path root = fs::absolute(dir).lexically_normal();
    fs::path scratch = root / (".gpuctl-fetch-" + r.key);
    std::error_code ec;
    fs::remove_all(scratch, ec);
    struct Cleanup {
      fs::path p;
      ~Cleanup()
      {
        std::error_code e;
        fs::remove_all(p, e);
      }
    } cleanup{scratch};
    client().fetch_output(target_of(r.worker), r.key, (scratch / "output").string());
    auto fail = [&](const fs::path& p, const std::error_code& e) {
      throw Error(ErrorKind::failure,
                  fmt::format("job {}: cannot write {}: {}", r.key, p.string(), e.message()));
    };
    for (const auto& e : fs::directory_iterator(scratch / "output", ec)) {
      fs::path to = root / e.path().filename();
      std::error_code e2;
      fs::remove_all(to, e2);
      fs::rename(e.path(), to, e2);
      if (e2) {
        fail(to, e2);
      }
    }
    if (ec) {
      fail(scratch / "output", ec);
    }
    if (fs::exists(scratch / "log", ec)) {
      fs::path to = root / "log";
      std::error_code e2;
      fs::remove_all(to, e2);
      fs::rename(scratch / "log", to, e2);
      if (e2) {
        fail(to, e2);
      }
    }
  }

  void stop(const RunContext& r) override { client().kill(target_of(r.worker), r.key); }
  std::string log(const RunContext& r, std::int64_t offset) override
  {
    return client().log(target_of(r.worker), r.key, offset);
  }

private:
  ssh::Client client() { return ssh::Client(m_runner, m_opts); }

  ssh::Runner& m_runner;
  ssh::Options m_opts;
};

} // namespace

std::unique_ptr<Backend>
make_ssh_backend(providers::ssh::Runner& runner, providers::ssh::Options opts)
{
  return std::make_unique<SshBackend>(runner, std::move(opts));
}

} // namespace gpuctl::sched
