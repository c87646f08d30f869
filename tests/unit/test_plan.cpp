// The planner against the independent checker (issue 6 acceptance 1–4).
#include "gpuctl/core/time.hpp"
#include "gpuctl/plan/plan.hpp"
#include "gpuctl/plan/render.hpp"
#include "support/plan_checker.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <random>
#include <sstream>

using namespace gpuctl;
using namespace gpuctl::plan;
using gpuctl::test::CAccount;
using gpuctl::test::CFleet;
using gpuctl::test::CSlot;
using gpuctl::test::CWindow;

namespace {

const Instant k_from = *parse_rfc3339("2026-11-30T08:00:00Z");

PlanInput
to_input(const CFleet& f, Strategy s = Strategy::full_time, int keep = 0)
{
  PlanInput in;
  in.strategy = s;
  in.from = k_from;
  in.to = k_from + std::chrono::minutes(f.horizon);
  in.keep = keep;
  for (const auto& a : f.accounts) {
    PlanAccount p;
    p.name = a.name;
    p.provider = a.windows.empty() ? "ssh" : a.windows[0].kind == "daily" ? "colab" : "kaggle";
    p.workers = a.workers;
    p.concurrent = a.concurrent;
    if (a.cap > 0) p.cap = std::chrono::minutes(a.cap);
    for (const auto& w : a.windows) {
      p.windows.push_back({w.kind, k_from + std::chrono::minutes(w.start),
                           k_from + std::chrono::minutes(w.end), static_cast<double>(w.budget) / 60.0});
    }
    in.accounts.push_back(p);
  }
  return in;
}

std::vector<CSlot>
to_cslots(const Plan& p)
{
  std::vector<CSlot> out;
  for (const auto& s : p.slots) {
    out.push_back({s.worker, s.account,
                   std::chrono::duration_cast<std::chrono::minutes>(s.start - k_from).count(),
                   std::chrono::duration_cast<std::chrono::minutes>(s.end - k_from).count()});
  }
  return out;
}

// Windows of one kind every `period` minutes, the first starting at `first` (≤ 0).
std::vector<CWindow>
windows(const std::string& kind, std::int64_t first, std::int64_t period, std::int64_t horizon,
        std::int64_t budget)
{
  std::vector<CWindow> out;
  for (std::int64_t s = first; s < horizon; s += period) out.push_back({kind, s, s + period, budget});
  return out;
}

// The seeds' fleet with default policies, from Monday 2026-11-30 08:00 UTC for 7 days: Kaggle
// 30 h/week × 0.70 = 21 h, weeks from Saturday 00:00 (2 days 8 h before); Colab 12 h/day × 0.70
// = 8 h 24 m, days from 00:00 (8 h before); caps 12 h − 30 min.
CFleet
fleet14()
{
  CFleet f;
  f.horizon = 7 * 1440;
  for (int i = 1; i <= 7; ++i) {
    CAccount c{"colab-0" + std::to_string(i), {"colab-0" + std::to_string(i) + "-w"}, 1, 690,
               windows("daily", -480, 1440, f.horizon, 504)};
    CAccount k{"kaggle-0" + std::to_string(i), {"kaggle-0" + std::to_string(i) + "-w"}, 2, 690,
               windows("weekly", -(2 * 1440 + 480), 7 * 1440, f.horizon, 1260)};
    f.accounts.push_back(c);
    f.accounts.push_back(k);
  }
  return f;
}

void
expect_valid(const CFleet& f, const Plan& p)
{
  auto problems = test::check_slots(f, to_cslots(p));
  std::string all;
  for (const auto& s : problems) all += s + "\n";
  CHECK_MESSAGE(problems.empty(), all);
  auto sum = test::summarise_slots(f, to_cslots(p));
  CHECK(p.min_online == sum.min_online);
  CHECK(p.mean_online == doctest::Approx(sum.mean_online));
  CHECK(p.above_min_hours == doctest::Approx(sum.above_min_hours));
  CHECK(p.planned_hours == doctest::Approx(sum.planned_hours));
  CHECK(p.sessions == sum.sessions);
  CHECK(p.min_sessions == sum.min_sessions);
}

std::string
describe(const CFleet& f)
{
  std::ostringstream o;
  o << "horizon " << f.horizon << "\n";
  for (const auto& a : f.accounts) {
    o << a.name << " workers " << a.workers.size() << " concurrent " << a.concurrent << " cap "
      << a.cap;
    for (const auto& w : a.windows) o << " " << w.kind << "[" << w.start << "," << w.end << ")=" << w.budget;
    o << "\n";
  }
  return o.str();
}

} // namespace

TEST_CASE("7 Colab + 7 Kaggle: min_online reaches the independently computed ceiling")
{
  CFleet f = fleet14();
  Plan p = make_plan(to_input(f));
  int bound = test::flow_bound(f);
  CHECK(bound == 3);
  CHECK(p.ceiling == bound);
  CHECK(p.min_online == bound);
  expect_valid(f, p);
  // It uses the whole safe budget: per Colab account 8.4 h on each of 7 days plus 8 h of the
  // last (it ends at 08:00); per Kaggle account 21 h in each of the 2 weeks touched.
  CHECK(p.planned_hours == doctest::Approx(7 * (7 * 8.4 + 8) + 7 * 21 * 2));
  CHECK(p.above_min_hours > 0);
}

TEST_CASE("small fleets worked out by hand")
{
  SUBCASE("one Colab account cannot cover a day: bound 0, 8.4 h planned")
  {
    CFleet f{1440, {{"c", {"c-w"}, 1, 690, windows("daily", 0, 1440, 1440, 504)}}};
    Plan p = make_plan(to_input(f));
    CHECK(p.ceiling == 0);
    CHECK(test::flow_bound(f) == 0);
    CHECK(p.min_online == 0);
    CHECK(p.planned_hours == doctest::Approx(8.4));
    CHECK(p.above_min_hours == doctest::Approx(8.4));
    CHECK(p.sessions == 1);
    expect_valid(f, p);
  }
  SUBCASE("three accounts of 8 h a day cover the day once, in three sessions")
  {
    CFleet f{1440, {}};
    for (const char* n : {"a", "b", "c"}) {
      f.accounts.push_back({n, {std::string(n) + "-w"}, 1, 690, windows("daily", 0, 1440, 1440, 480)});
    }
    Plan p = make_plan(to_input(f));
    CHECK(p.ceiling == 1);
    CHECK(p.min_online == 1);
    CHECK(p.above_min_hours == 0);
    CHECK(p.sessions == 3);
    expect_valid(f, p);
  }
  SUBCASE("an ssh box with two workers and no budget: 2 around the clock, capless")
  {
    CFleet f{2 * 1440, {{"lab", {"b1", "b2"}, 2, 0, {}}}};
    Plan p = make_plan(to_input(f));
    CHECK(p.ceiling == 2);
    CHECK(p.min_online == 2);
    CHECK(p.sessions == 2);
    expect_valid(f, p);
  }
  SUBCASE("concurrency, not hours, binds: 100 h a week but one at a time")
  {
    CFleet f{7 * 1440, {{"k", {"k1", "k2"}, 1, 690, windows("weekly", 0, 7 * 1440, 7 * 1440, 6000)}}};
    Plan p = make_plan(to_input(f));
    CHECK(p.ceiling == 0); // 6000 min < 10080
    CHECK(p.min_online == 0);
    CHECK(p.planned_hours == doctest::Approx(100.0));
    expect_valid(f, p);
  }
}

TEST_CASE("property: 300 random fleets pass the checker and reach the bound")
{
  std::mt19937 rng(20261130);
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  int total = 0, reached = 0;
  std::string misses;
  for (int round = 0; round < 300; ++round) {
    CFleet f;
    f.horizon = pick(1, 7) * 1440 - pick(0, 3) * 60;
    int n = pick(1, round % 10 == 0 ? 60 : 12);
    // Reset offsets from a small set, so that some fleets have crossing daily/weekly windows.
    const std::int64_t offsets[] = {0, 120, 480, 1020};
    for (int i = 0; i < n; ++i) {
      CAccount a;
      a.name = "a" + std::to_string(i);
      int workers = pick(1, 3);
      for (int w = 0; w < workers; ++w) a.workers.push_back(a.name + "w" + std::to_string(w));
      a.concurrent = pick(1, 3);
      int kind = pick(0, 9);
      a.cap = kind == 9 ? 0 : pick(4, 46) * 15;
      std::int64_t day_off = -offsets[pick(0, 3)];
      std::int64_t week_off = -offsets[pick(0, 3)] - 1440 * pick(0, 6);
      if (kind <= 3) { // kaggle-like
        a.windows = windows("weekly", week_off, 7 * 1440, f.horizon, pick(0, 30 * 60));
      } else if (kind <= 6) { // colab-like
        a.windows = windows("daily", day_off, 1440, f.horizon, pick(0, 12 * 60));
      } else if (kind <= 8) { // both
        a.windows = windows("weekly", week_off, 7 * 1440, f.horizon, pick(0, 30 * 60));
        auto d = windows("daily", day_off, 1440, f.horizon, pick(60, 12 * 60));
        a.windows.insert(a.windows.end(), d.begin(), d.end());
      }
      // Recorded usage: the current windows have less left.
      for (auto& w : a.windows) {
        if (w.start <= 0) w.budget = std::max<std::int64_t>(0, w.budget - pick(0, 600));
      }
      f.accounts.push_back(a);
    }
    Plan p = make_plan(to_input(f));
    auto problems = test::check_slots(f, to_cslots(p));
    CHECK_MESSAGE(problems.empty(), "round " << round << ": " << problems.front() << "\n" << describe(f));
    auto sum = test::summarise_slots(f, to_cslots(p));
    CHECK(p.min_online == sum.min_online);
    CHECK(p.planned_hours == doctest::Approx(sum.planned_hours));
    int bound = test::flow_bound(f);
    CHECK(p.ceiling == bound);
    ++total;
    if (p.min_online == bound) {
      ++reached;
    } else {
      misses += "round " + std::to_string(round) + ": min " + std::to_string(p.min_online) +
                " < bound " + std::to_string(bound) + "\n" + describe(f);
    }
  }
  INFO(misses);
  CHECK(reached * 100 >= total * 95);
  MESSAGE("reached the bound in " << reached << " of " << total << " fleets");
}

TEST_CASE("burst and economy on the 7+7 fleet")
{
  CFleet f = fleet14();
  Plan b = make_plan(to_input(f, Strategy::burst));
  expect_valid(f, b);
  // At --from every account with budget left runs as many workers as it may: 14.
  REQUIRE_FALSE(b.online.empty());
  CHECK(b.online.front().start == k_from);
  CHECK(b.online.front().count == 14);

  Plan e = make_plan(to_input(f, Strategy::economy, 2));
  expect_valid(f, e);
  std::int64_t sustain = test::sustain_minutes(f, 2);
  CHECK(sustain > 0);
  for (const auto& st : e.online) {
    CHECK(st.count <= 2);
  }
  // Exactly 2 online from --from for as long as the checker's flow says is possible.
  Instant until = k_from + std::chrono::minutes(sustain);
  for (const auto& st : e.online) {
    if (st.start < until) CHECK(st.count == 2);
  }
}

TEST_CASE("ics: RFC 5545 lines, folding and alarms")
{
  CFleet f = fleet14();
  Plan p = make_plan(to_input(f));
  std::string ics = render_ics(p, k_from);
  REQUIRE(ics.size() > 100);
  CHECK(ics.rfind("BEGIN:VCALENDAR\r\n", 0) == 0);
  CHECK(ics.find("\r\nEND:VCALENDAR\r\n") != std::string::npos);
  size_t events = 0, alarms = 0, pos = 0;
  while (pos < ics.size()) {
    size_t end = ics.find("\r\n", pos);
    REQUIRE(end != std::string::npos);
    std::string line = ics.substr(pos, end - pos);
    CHECK(line.find('\n') == std::string::npos);
    CHECK(line.size() <= 75);
    events += line == "BEGIN:VEVENT";
    alarms += line == "BEGIN:VALARM";
    pos = end + 2;
  }
  CHECK(events == p.slots.size());
  CHECK(alarms == p.slots.size());
  for (const char* prop : {"VERSION:2.0", "PRODID:", "UID:", "DTSTAMP:20261130T080000Z", "DTSTART:",
                           "DTEND:", "SUMMARY:", "TRIGGER:-PT10M", "ACTION:DISPLAY"}) {
    CHECK(ics.find(prop) != std::string::npos);
  }
}
