// SPDX-License-Identifier: MIT
// autoscale::decide, the pure decision of one tick (decide.hpp), over the situations of
// dask-http.md §3: unrunnable GPU tasks with a target of 0 or 1, a spike clamped to max, workers
// that are not gpuctl's, low demand held for scale_down_after, busy workers never retired, boot
// timeouts.
#include "gpuctl/autoscale/decide.hpp"

#include <doctest/doctest.h>

using namespace gpuctl;
using namespace gpuctl::autoscale;

namespace {

const Instant t0{std::chrono::seconds(1796025600)};

Params
params(int min = 0, int max = 4, int step = 2)
{
  Params p;
  p.min = min;
  p.max = max;
  p.step_up = step;
  p.scale_down_after = Seconds{600};
  p.boot_timeout = Seconds{900};
  return p;
}

Member
joined(const std::string& name, const std::string& addr, bool idle, Instant booted = t0)
{
  Member m;
  m.worker = name;
  m.joined = true;
  m.address = addr;
  m.idle = idle;
  m.booted_at = booted;
  return m;
}

Member
booting(const std::string& name, Instant booted)
{
  Member m;
  m.worker = name;
  m.booted_at = booted;
  return m;
}

} // namespace

TEST_CASE("decide: target 0 with unrunnable GPU tasks and no gpuctl worker starts one")
{
  // recorded: 5 GPU tasks, 2 idle CPU-only workers → adaptive_target 0 (spec §3.1)
  auto d = decide({0, 5, 2}, {}, params(), std::nullopt, t0);
  CHECK(d.others == 2);
  CHECK(d.want == 1);
  CHECK(d.desired == 1);
  CHECK(d.start == 1);
  CHECK(d.retire.empty());
  CHECK_FALSE(d.unrunnable_unserved);
  // ... and target 1 for 100 GPU tasks with no worker at all is one machine too.
  auto e = decide({1, 100, 0}, {}, params(), std::nullopt, t0);
  CHECK(e.start == 1);
}

TEST_CASE("decide: a target spike in the hundreds is clamped to max and started step_up at a time")
{
  auto d = decide({450, 0, 1}, {joined("dask-1", "tcp://10.0.0.1:4000", false)}, params(0, 4, 2),
                  std::nullopt, t0);
  CHECK(d.want == 450);
  CHECK(d.desired == 4);
  CHECK(d.start == 2);
  auto e = decide({450, 0, 1},
                  {joined("dask-1", "a", false), booting("dask-2", t0), booting("dask-3", t0)},
                  params(0, 4, 2), std::nullopt, t0 + Seconds{30});
  CHECK(e.booting == 2);
  CHECK(e.start == 1); // 4 − (1 joined + 2 booting)
  auto f = decide({450, 0, 4}, {joined("a", "1", false), joined("b", "2", false),
                                 joined("c", "3", false), joined("d", "4", false)},
                  params(0, 4, 2), std::nullopt, t0);
  CHECK(f.start == 0);
}

TEST_CASE("decide: workers that are not gpuctl's count against the target and are never retired")
{
  // 3 foreign workers, target 3: nothing for gpuctl to do; never a retire of a foreign address
  auto d = decide({3, 0, 4}, {joined("dask-1", "tcp://mine:1", true)}, params(), t0 - Seconds{3600},
                  t0);
  CHECK(d.others == 3);
  CHECK(d.want == 0);
  REQUIRE(d.retire.size() == 1);
  CHECK(d.retire[0] == "tcp://mine:1");
}

TEST_CASE("decide: low demand retires only after scale_down_after, only idle members, never below min")
{
  std::vector<Member> ms = {joined("dask-1", "tcp://a:1", true, t0 - Seconds{100}),
                            joined("dask-2", "tcp://b:1", false, t0 - Seconds{50}),
                            joined("dask-3", "tcp://c:1", true, t0 - Seconds{10})};
  auto first = decide({0, 0, 3}, ms, params(1, 4, 2), std::nullopt, t0);
  REQUIRE(first.low_since);
  CHECK(*first.low_since == t0);
  CHECK(first.retire.empty());
  auto early = decide({0, 0, 3}, ms, params(1, 4, 2), first.low_since, t0 + Seconds{599});
  CHECK(early.retire.empty());
  auto later = decide({0, 0, 3}, ms, params(1, 4, 2), first.low_since, t0 + Seconds{600});
  // desired = min 1; 3 joined → up to 2 retired, the idle ones (dask-2 is busy)
  CHECK(later.retire == std::vector<std::string>{"tcp://a:1", "tcp://c:1"});
  // demand back up: the clock resets
  auto back = decide({3, 0, 3}, ms, params(1, 4, 2), first.low_since, t0 + Seconds{700});
  CHECK_FALSE(back.low_since);
  CHECK(back.retire.empty());
}

TEST_CASE("decide: unrunnable tasks with gpuctl's GPU workers up start nothing more and say so")
{
  auto d = decide({1, 7, 1}, {joined("dask-1", "tcp://a:1", false)}, params(), std::nullopt, t0);
  CHECK(d.unrunnable_unserved);
  CHECK(d.start == 0);
}

TEST_CASE("decide: a machine whose worker never joined within boot_timeout is given up")
{
  auto d = decide({1, 3, 0}, {booting("dask-1", t0 - Seconds{901})}, params(), std::nullopt, t0);
  CHECK(d.boot_timed_out == std::vector<std::string>{"dask-1"});
  CHECK(d.booting == 0);
  CHECK(d.start == 1); // the demand is still there: another machine is started
  auto e = decide({1, 3, 0}, {booting("dask-1", t0 - Seconds{60})}, params(), std::nullopt, t0);
  CHECK(e.boot_timed_out.empty());
  CHECK(e.start == 0); // it is still booting: counted, nothing more started
}

TEST_CASE("decide: min keeps machines up with no demand at all")
{
  auto d = decide({0, 0, 0}, {}, params(2, 4, 1), std::nullopt, t0);
  CHECK(d.desired == 2);
  CHECK(d.start == 1);
  CHECK(d.why.find("desired 2") != std::string::npos);
}
