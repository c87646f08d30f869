// SPDX-License-Identifier: MIT
// hibernate::judge (DESIGN §8): the idle rules as a pure function. The CLI tests
// (tests/cli/test_hibernate.cpp) cover the same rules end to end; a running gpuctl job is also
// judged here, since a job needs a real ssh run on the instance there.
#include "gpuctl/hibernate/idle.hpp"

#include <doctest/doctest.h>

#include <optional>
#include <vector>

using namespace gpuctl;
using namespace gpuctl::hibernate;

namespace {

const Instant k_start{std::chrono::seconds{1796025600}}; // 2026-11-30T08:00:00Z

Instant
minute(int m)
{
  return k_start + std::chrono::minutes(m);
}

/// One sample per minute from `from` to `to` (inclusive) at `util`, newest first.
std::vector<store::UtilSample>
samples(int from, int to, std::optional<double> util = 2.0)
{
  std::vector<store::UtilSample> out;
  for (int m = to; m >= from; --m) {
    out.push_back({minute(m), util});
  }
  return out;
}

} // namespace

TEST_CASE("hibernate judge: idle for idle_for past the grace hibernates at the 4th sample, not before")
{
  Rules r; // 5%, 3m, grace 10m, sweep 1m
  CHECK(judge(samples(11, 11), minute(11), minute(0), r, false).verdict == Verdict::idle);
  CHECK(judge(samples(11, 13), minute(13), minute(0), r, false).verdict == Verdict::idle);
  auto j = judge(samples(11, 14), minute(14), minute(0), r, false);
  CHECK(j.verdict == Verdict::hibernate);
  CHECK(j.evidence.size() == 4);
}

TEST_CASE("hibernate judge: a running gpuctl job makes it busy whatever the samples say")
{
  Rules r;
  auto j = judge(samples(11, 40), minute(40), minute(0), r, true);
  CHECK(j.verdict == Verdict::busy);
  CHECK(j.evidence.empty());
  CHECK(j.reason.find("job") != std::string::npos);
  // Also inside the grace and with no samples at all.
  CHECK(judge(samples(1, 5), minute(5), minute(0), r, true).verdict == Verdict::busy);
  CHECK(judge({}, minute(40), std::nullopt, r, true).verdict == Verdict::busy);
}

TEST_CASE("hibernate judge: grace, a null sample, a busy sample and a gap")
{
  Rules r;
  CHECK(judge(samples(1, 9), minute(9), minute(0), r, false).verdict == Verdict::grace);
  auto nul = samples(11, 14);
  nul[0].gpu_util.reset();
  CHECK(judge(nul, minute(14), minute(0), r, false).verdict == Verdict::busy);
  auto mid = samples(11, 16);
  mid[3].gpu_util = 50.0; // minute 13
  CHECK(judge(mid, minute(16), minute(0), r, false).verdict == Verdict::idle);
  mid.insert(mid.begin(), store::UtilSample{minute(17), 2.0});
  CHECK(judge(mid, minute(17), minute(0), r, false).verdict == Verdict::hibernate);
  auto gap = samples(32, 32);
  auto before = samples(11, 12);
  gap.insert(gap.end(), before.begin(), before.end());
  CHECK(judge(gap, minute(32), minute(0), r, false).verdict == Verdict::idle);
}
