// SPDX-License-Identifier: MIT
// sched::select, the dispatch rule of DESIGN §7, as a pure function.
#include "gpuctl/sched/select.hpp"

#include <doctest/doctest.h>

using namespace gpuctl;
using namespace gpuctl::sched;

namespace {

const Instant k_now{std::chrono::seconds{1796025600}};

AccountLoad
kaggle(std::int64_t id, double used_h)
{
  AccountLoad a;
  a.id = id;
  a.name = std::string(1, static_cast<char>('A' + id - 1));
  a.policy.weekly_gpu_hours = 30;
  a.policy.session_max = Seconds{12 * 3600};
  a.policy.shutdown_margin = Seconds{1800};
  a.policy.concurrent = 2;
  quota::WindowUsage w;
  w.window = {"weekly", k_now - std::chrono::hours(48), k_now + std::chrono::hours(120), 30};
  w.used_h = used_h;
  a.windows = {w};
  a.session_per_job = true;
  return a;
}

WorkerView
worker(std::int64_t id, std::int64_t account, const std::string& name)
{
  WorkerView w;
  w.id = id;
  w.name = name;
  w.provider = "kaggle";
  w.gpu = "T4";
  w.account_id = account;
  w.online = true;
  return w;
}

JobNeed
job(std::int64_t id, std::optional<std::int64_t> timeout = 4 * 3600)
{
  JobNeed n;
  n.id = id;
  n.runnable_on = {"kaggle"};
  n.timeout_s = timeout;
  return n;
}

} // namespace

TEST_CASE("select: lowest projected share first, a full account is skipped, warning never")
{
  std::map<std::int64_t, AccountLoad> accounts = {{1, kaggle(1, 3)}, {2, kaggle(2, 15)},
                                                  {3, kaggle(3, 22.5)}};
  std::vector<WorkerView> ws = {worker(1, 1, "A1"), worker(2, 1, "A2"), worker(3, 2, "B1"),
                                worker(4, 2, "B2"), worker(5, 3, "C1"), worker(6, 3, "C2")};
  auto sel = select({job(1), job(2), job(3), job(4), job(5)}, ws, accounts, k_now, true);
  REQUIRE(sel.assignments.size() == 4);
  CHECK(sel.assignments[0].worker_id == 1);
  CHECK(sel.assignments[1].worker_id == 2);
  CHECK(sel.assignments[2].worker_id == 3);
  CHECK(sel.assignments[3].worker_id == 4);
  CHECK(sel.assignments[1].projected_share == doctest::Approx(7.0 / 30));
  CHECK(sel.assignments[3].projected_share == doctest::Approx(19.0 / 30));
  for (const auto& a : sel.assignments) {
    CHECK(a.timeout_s == 4 * 3600);
  }
  CHECK(sel.why.at(5) == "4 workers busy, 2 workers at warning");
}

TEST_CASE("select: without --timeout the run limit is the new session's deadline")
{
  std::map<std::int64_t, AccountLoad> accounts = {{1, kaggle(1, 0)}};
  auto sel = select({job(1, std::nullopt)}, {worker(1, 1, "A1")}, accounts, k_now, false);
  REQUIRE(sel.assignments.size() == 1);
  CHECK(sel.assignments[0].timeout_s == 11 * 3600 + 1800);
  // 2 h of budget left: the run must end 30 min before it runs out.
  accounts = {{1, kaggle(1, 28)}};
  accounts[1].safe_below = 1.0;
  sel = select({job(1, std::nullopt)}, {worker(1, 1, "A1")}, accounts, k_now, false);
  REQUIRE(sel.assignments.size() == 1);
  CHECK(sel.assignments[0].timeout_s == 2 * 3600 - 1800);
}

TEST_CASE("select: constraints, offline and disabled workers, lost-on workers last, least recently dispatched")
{
  std::map<std::int64_t, AccountLoad> accounts = {{1, kaggle(1, 0)}};
  auto a1 = worker(1, 1, "A1");
  auto a2 = worker(2, 1, "A2");
  a1.last_dispatched = k_now - std::chrono::hours(1);
  auto sel = select({job(1)}, {a1, a2}, accounts, k_now, false);
  CHECK(sel.assignments.at(0).worker_id == 2); // never dispatched to comes first
  auto lost = job(1);
  lost.avoid = {2};
  sel = select({lost}, {a1, a2}, accounts, k_now, false);
  CHECK(sel.assignments.at(0).worker_id == 1);
  a1.online = false;
  a2.enabled = false;
  sel = select({job(1)}, {a1, a2}, accounts, k_now, true);
  CHECK(sel.assignments.empty());
  CHECK(sel.why.at(1) == "1 worker disabled, 1 worker offline");
  auto pinned = job(2);
  pinned.worker = "nope";
  sel = select({pinned}, {a1, a2}, accounts, k_now, true);
  CHECK(sel.why.at(2) == "no worker matches its --worker/--provider/--gpu constraints");
  // --gpu as people write it: RTX_4090 (worker add), "RTX 4090" (vast.ai's name), any case.
  auto rented = worker(1, 1, "v1");
  rented.gpu = "RTX 4090";
  for (const char* spelled : {"RTX_4090", "RTX 4090", "rtx_4090"}) {
    auto want = job(4);
    want.gpu = spelled;
    sel = select({want}, {rented}, accounts, k_now, true);
    CAPTURE(spelled);
    CHECK(sel.assignments.size() == 1);
  }
  auto other = job(5);
  other.gpu = "RTX_3090";
  sel = select({other}, {rented}, accounts, k_now, true);
  CHECK(sel.assignments.empty());
  CHECK(sel.why.at(5) == "no worker matches its --worker/--provider/--gpu constraints");
  auto command = job(3);
  command.runnable_on = {"ssh"};
  sel = select({command}, {worker(1, 1, "A1")}, accounts, k_now, true);
  CHECK(sel.why.at(3) == "1 worker whose provider cannot run this job");
}
