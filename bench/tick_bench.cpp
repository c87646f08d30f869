// SPDX-License-Identifier: MIT
// One scheduler tick over a big queue (bench/README.md "tick"): 10,000 queued jobs and 500
// ssh-like workers on a fake back end that accepts every launch at once. Timed with hyperfine:
//
//   tick_bench prepare BASE.db      # builds the state file once
//   hyperfine --prepare 'cp BASE.db run.db; rm -f run.db-wal run.db-shm' 'tick_bench tick run.db'
//
// `tick` runs one real sched::tick (refresh, deadlines, plan, dispatch, with every transaction
// and event) and exits 1 unless it dispatched exactly one job per worker.
#include "gpuctl/config/config.hpp"
#include "gpuctl/sched/snapshot.hpp"
#include "gpuctl/sched/tick.hpp"
#include "gpuctl/store/database.hpp"
#include "gpuctl/store/jobs.hpp"
#include "gpuctl/store/registry.hpp"

#include <fmt/format.h>

#include <cstdio>
#include <string>

using namespace gpuctl;

namespace {

constexpr int k_workers = 500;
constexpr int k_jobs = 10000;
const Instant k_now{std::chrono::seconds{1796025600}}; // 2026-11-30T08:00:00Z

/// Accepts every launch at once; every worker answers its health check.
class AcceptingBackend final : public sched::Backend {
public:
  std::string cannot_run(const sched::JobSpec& s) const override { return sched::cannot_run("ssh", s); }
  std::map<std::int64_t, sched::Health> refresh(const std::vector<store::WorkerRow>& ws) override
  {
    std::map<std::int64_t, sched::Health> out;
    for (const auto& w : ws) {
      out[w.id] = sched::Health{true, 0.0, ""};
    }
    return out;
  }
  nlohmann::json launch(const sched::RunContext& r) override
  {
    ++launched;
    return {{"host", r.worker.host.value_or("")}};
  }
  sched::Observation observe(const sched::RunContext&) override { return {sched::Phase::running, {}, ""}; }
  void collect(const sched::RunContext&, const std::string&) override {}
  void stop(const sched::RunContext&) override {}
  std::string log(const sched::RunContext&, std::int64_t) override { return {}; }
  bool session_per_job() const override { return false; }
  int launched = 0;
};

int
prepare(const std::string& path)
{
  std::remove(path.c_str());
  auto db = store::Database::open(path, store::Access::write);
  db.write([&] {
    store::AccountRow a;
    a.name = "lab";
    a.provider = "ssh";
    a.created_at = k_now;
    std::int64_t account = store::insert_account(db.sql(), a);
    for (int i = 0; i < k_workers; ++i) {
      store::WorkerRow w;
      w.name = fmt::format("box{:03}", i);
      w.account_id = account;
      w.provider = "ssh";
      w.gpu = i % 2 ? "A100" : "RTX_4090";
      w.host = fmt::format("gpu@10.0.{}.{}", i / 250, i % 250 + 1);
      w.state = "online";
      w.last_seen_at = k_now;
      w.created_at = k_now;
      store::insert_worker(db.sql(), w);
    }
    for (int i = 0; i < k_jobs; ++i) {
      store::JobRow j;
      j.name = fmt::format("train-{}", i);
      j.priority = i % 7;
      j.spec_json = sched::to_json(sched::JobSpec{"command", {"python", "train.py", "--seed",
                                                               std::to_string(i)}})
                        .dump();
      j.submitted_at = k_now - std::chrono::seconds(k_jobs - i);
      j.timeout_s = 4 * 3600;
      store::insert_job(db.sql(), j);
    }
  });
  return 0;
}

int
tick(const std::string& path)
{
  auto db = store::Database::open(path, store::Access::write_existing);
  config::Config cfg;
  FixedClock clock(k_now);
  AcceptingBackend ssh;
  sched::TickEnv env{db, cfg, clock, {{"ssh", &ssh}}, {}, {}, {}, "/nonexistent/jobs"};
  auto rep = sched::tick(env, {});
  int dispatched = 0;
  for (const auto& a : rep.actions) {
    dispatched += a.type == "job.dispatch";
  }
  if (dispatched != k_workers || ssh.launched != k_workers || !rep.errors.empty()) {
    std::fprintf(stderr, "tick_bench: dispatched %d, launched %d, %zu errors (expected %d)\n",
                 dispatched, ssh.launched, rep.errors.size(), k_workers);
    return 1;
  }
  return 0;
}

} // namespace

int
main(int argc, char** argv)
{
  if (argc != 3 || (std::string(argv[1]) != "prepare" && std::string(argv[1]) != "tick")) {
    std::fprintf(stderr, "usage: tick_bench prepare|tick STATE.db\n");
    return 2;
  }
  try {
    return std::string(argv[1]) == "prepare" ? prepare(argv[2]) : tick(argv[2]);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tick_bench: %s\n", e.what());
    return 1;
  }
}
