// Quota arithmetic at the boundaries (issue 5 acceptance 1, 3, 5).
#include "gpuctl/core/error.hpp"
#include "gpuctl/core/time.hpp"
#include "gpuctl/quota/ledger.hpp"
#include "gpuctl/quota/service.hpp"
#include "gpuctl/store/registry.hpp"
#include "gpuctl/store/sessions.hpp"
#include "support/support.hpp"

#include <doctest/doctest.h>

using namespace gpuctl;
using namespace gpuctl::quota;
using namespace std::chrono;

namespace {

Instant
at(const char* s)
{
  auto t = parse_rfc3339(s);
  REQUIRE(t.has_value());
  return *t;
}

Policy
kaggle()
{
  Policy p;
  p.weekly_gpu_hours = 30;
  p.week_reset = "sat 00:00";
  p.session_max = hours(12);
  p.shutdown_margin = minutes(30);
  p.concurrent = 2;
  return p;
}

// A DB with one account and worker, and helpers to record sessions.
struct Ledger {
  test::TempDir dir;
  store::Database db = store::Database::open(dir / "state.db", store::Access::write);
  config::Config cfg;
  std::int64_t account = 0, worker = 0;

  explicit Ledger(const char* provider = "kaggle")
  {
    store::AccountRow a;
    a.name = "alice";
    a.provider = provider;
    account = store::insert_account(db.sql(), a);
    store::WorkerRow w;
    w.name = "w1";
    w.account_id = account;
    w.provider = provider;
    worker = store::insert_worker(db.sql(), w);
  }
  void add(const char* start, std::optional<const char*> end)
  {
    store::SessionRow s;
    s.worker_id = worker;
    s.worker = "w1";
    s.account_id = account;
    s.started_at = at(start);
    if (end) {
      s.ended_at = at(*end);
    }
    store::insert_session(db.sql(), s);
  }
  AccountQuota quota(const char* now) { return compute_quotas(db, cfg, at(now)).at(0); }
};

} // namespace

TEST_CASE("weekly and daily window starts")
{
  // 2026-11-28 is a Saturday.
  CHECK(weekly_window_start("sat 00:00", at("2026-11-30T08:00:00Z")) == at("2026-11-28T00:00:00Z"));
  CHECK(weekly_window_start("sat 00:00", at("2026-11-28T00:00:00Z")) == at("2026-11-28T00:00:00Z"));
  CHECK(weekly_window_start("sat 00:00", at("2026-11-27T23:59:59Z")) == at("2026-11-21T00:00:00Z"));
  CHECK(weekly_window_start("mon 06:30", at("2026-11-30T06:29:00Z")) == at("2026-11-23T06:30:00Z"));
  CHECK(weekly_window_start("mon 06:30", at("2026-11-30T06:30:00Z")) == at("2026-11-30T06:30:00Z"));
  CHECK(daily_window_start("00:00", at("2026-11-30T08:00:00Z")) == at("2026-11-30T00:00:00Z"));
  CHECK(daily_window_start("09:00", at("2026-11-30T08:00:00Z")) == at("2026-11-29T09:00:00Z"));
  auto ws = windows_at(kaggle(), at("2026-11-30T08:00:00Z"));
  REQUIRE(ws.size() == 1);
  CHECK(ws[0].kind == "weekly");
  CHECK(ws[0].end == at("2026-12-05T00:00:00Z"));
  CHECK(ws[0].budget_h == 30);
  CHECK_THROWS_AS(weekly_window_start("someday", at("2026-11-30T08:00:00Z")), Error);
}

TEST_CASE("status bands")
{
  CHECK(status_of(std::nullopt, 0.7, 0.9) == "safe");
  CHECK(status_of(0.69, 0.7, 0.9) == "safe");
  CHECK(status_of(21.0 / 30.0, 0.7, 0.9) == "warning");
  CHECK(status_of(0.9, 0.7, 0.9) == "critical");
  CHECK(status_of(1.0, 0.7, 0.9) == "exhausted");
  CHECK(status_of(1.4, 0.7, 0.9) == "exhausted");
}

TEST_CASE("21 h used of 30: warning, 9 h left, zero just after the reset")
{
  Ledger l;
  l.add("2026-11-28T01:00:00Z", "2026-11-28T13:00:00Z"); // 12 h
  l.add("2026-11-29T01:00:00Z", "2026-11-29T10:00:00Z"); // 9 h
  l.add("2026-11-20T01:00:00Z", "2026-11-20T10:00:00Z"); // last week: not counted
  auto q = l.quota("2026-11-30T08:00:00Z");
  REQUIRE(q.windows.size() == 1);
  CHECK(q.windows[0].used_h == doctest::Approx(21.0));
  CHECK(q.windows[0].left_h == doctest::Approx(9.0));
  CHECK(*q.share == doctest::Approx(0.70));
  CHECK(q.status == "warning");
  CHECK(*q.binding == "weekly");
  CHECK(*q.next_reset == at("2026-12-05T00:00:00Z"));
  auto after = l.quota("2026-12-05T00:00:01Z");
  CHECK(after.windows[0].used_h == 0.0);
  CHECK(after.status == "safe");
  CHECK(after.windows[0].window.start == at("2026-12-05T00:00:00Z"));
}

TEST_CASE("a session crossing the reset counts in each window only its part inside")
{
  Ledger l;
  l.add("2026-12-04T20:00:00Z", "2026-12-05T03:00:00Z"); // 4 h before, 3 h after the reset
  Instant now = at("2026-12-05T08:00:00Z");
  CHECK(store::usage_seconds(l.db.sql(), l.account, at("2026-11-28T00:00:00Z"),
                             at("2026-12-05T00:00:00Z"), now) == 4 * 3600);
  CHECK(l.quota("2026-12-05T08:00:00Z").windows[0].used_h == doctest::Approx(3.0));
  // Seen while it still ran (open), the old window held what had run by then.
  Ledger open;
  open.add("2026-12-04T20:00:00Z", std::nullopt);
  CHECK(open.quota("2026-12-04T23:00:00Z").windows[0].used_h == doctest::Approx(3.0));
  CHECK(open.quota("2026-12-05T03:00:00Z").windows[0].used_h == doctest::Approx(3.0));
}

TEST_CASE("a session exactly at the reset instant, a zero-length one and an open one")
{
  Ledger l;
  l.add("2026-12-04T22:00:00Z", "2026-12-05T00:00:00Z"); // ends exactly at the reset
  l.add("2026-12-05T00:00:00Z", "2026-12-05T02:00:00Z"); // starts exactly at the reset
  l.add("2026-12-05T03:00:00Z", "2026-12-05T03:00:00Z"); // zero length
  CHECK(l.quota("2026-12-04T23:59:59Z").windows[0].used_h == doctest::Approx(2.0 - 1.0 / 3600));
  CHECK(l.quota("2026-12-05T05:00:00Z").windows[0].used_h == doctest::Approx(2.0));
  l.add("2026-12-05T04:00:00Z", std::nullopt); // open: counts up to now
  auto q = l.quota("2026-12-05T05:30:00Z");
  CHECK(q.windows[0].used_h == doctest::Approx(3.5));
  REQUIRE(q.sessions.size() == 1);
  CHECK(*q.sessions[0].deadline == at("2026-12-05T15:30:00Z")); // 04:00 + 12 h − 30 m
}

TEST_CASE("deadlines: the cap, or the budget running out, minus the margin")
{
  Policy p = kaggle();
  Instant start = at("2026-11-30T08:00:00Z");
  WindowUsage plenty{{"weekly", at("2026-11-28T00:00:00Z"), at("2026-12-05T00:00:00Z"), 30}, 0, 30, 0};
  CHECK(*session_deadline(p, start, budget_runout({plenty}, 1, start)) == at("2026-11-30T19:30:00Z"));
  WindowUsage five_left = plenty;
  five_left.used_h = 25;
  CHECK(*session_deadline(p, start, budget_runout({five_left}, 1, start)) == at("2026-11-30T12:30:00Z"));
  // Two sessions share the 5 h: they run out after 2.5 h.
  CHECK(*session_deadline(p, start, budget_runout({five_left}, 2, start)) == at("2026-11-30T10:00:00Z"));
  // Over budget: the runout lies in the past.
  WindowUsage over = plenty;
  over.used_h = 31;
  CHECK(*budget_runout({over}, 1, start) == at("2026-11-30T07:00:00Z"));
  // A reset before the runout gives a full budget: the cap decides.
  Instant late = at("2026-12-04T20:00:00Z");
  WindowUsage near_reset{{"weekly", at("2026-11-28T00:00:00Z"), at("2026-12-05T00:00:00Z"), 30}, 20, 10, 0};
  CHECK(*budget_runout({near_reset}, 1, late) == at("2026-12-05T00:00:00Z") + hours(30));
  CHECK(*session_deadline(p, late, budget_runout({near_reset}, 1, late)) == late + hours(11) + minutes(30));
  // No cap and no budget: no deadline.
  CHECK_FALSE(session_deadline(Policy{}, start, std::nullopt).has_value());
}

TEST_CASE("warning levels at 1 h, 30 min and past")
{
  Instant d = at("2026-11-30T19:30:00Z");
  CHECK_FALSE(warning_level(d, at("2026-11-30T18:29:59Z")).has_value());
  CHECK(*warning_level(d, at("2026-11-30T18:30:00Z")) == "1h");
  CHECK(*warning_level(d, at("2026-11-30T19:00:00Z")) == "30m");
  CHECK(*warning_level(d, at("2026-11-30T19:30:00Z")) == "30m"); // at the deadline: not yet past
  CHECK(*warning_level(d, at("2026-11-30T19:30:01Z")) == "past");
  CHECK_FALSE(warning_level(std::nullopt, d).has_value());
}

TEST_CASE("colab: 10 h used since the daily reset leaves 2 h")
{
  Ledger l("colab");
  l.add("2026-11-29T20:00:00Z", "2026-11-30T06:00:00Z"); // 6 h today, 4 h yesterday
  l.add("2026-11-30T07:00:00Z", "2026-11-30T11:00:00Z"); // 4 h today
  auto q = l.quota("2026-11-30T12:00:00Z");
  REQUIRE(q.windows.size() == 1);
  CHECK(q.windows[0].window.kind == "daily");
  CHECK(q.windows[0].used_h == doctest::Approx(10.0));
  CHECK(q.windows[0].left_h == doctest::Approx(2.0));
  CHECK(q.estimated);
}

TEST_CASE("both windows: the higher share binds")
{
  Ledger l;
  l.add("2026-11-30T00:00:00Z", "2026-11-30T05:00:00Z");
  l.db.sql().exec("UPDATE accounts SET policy_json = '{\"daily_gpu_hours\":6.0}'");
  auto q = l.quota("2026-11-30T08:00:00Z");
  REQUIRE(q.windows.size() == 2);
  CHECK(q.windows[0].window.kind == "weekly");
  CHECK(q.windows[1].window.kind == "daily");
  CHECK(*q.binding == "daily");
  CHECK(*q.share == doctest::Approx(5.0 / 6.0));
  CHECK(q.status == "warning");
  CHECK(*q.next_reset == at("2026-12-01T00:00:00Z"));
}

TEST_CASE("adjustments add to usage in their window")
{
  Ledger l;
  l.db.sql().exec("INSERT INTO adjustments(account_id, at, window, hours, reason) VALUES "
                  "(1, 1796025600, 'weekly', 2.5, 'sync')");
  auto q = l.quota("2026-11-30T08:00:00Z");
  CHECK(q.windows[0].used_h == doctest::Approx(2.5));
}

TEST_CASE("local display of deadlines across the 2026-11-01 DST change in New York")
{
  auto ny = DisplayZone::resolve("America/New_York");
  // A session started 2026-10-31 20:00 EDT (00:00Z Nov 1) with a 12 h cap and 30 min margin:
  // deadline 11:30Z, which is 06:30 EST after the clocks went back.
  Policy p = kaggle();
  Instant start = at("2026-11-01T00:00:00Z");
  Instant d = *session_deadline(p, start, std::nullopt);
  CHECK(d == at("2026-11-01T11:30:00Z"));
  CHECK(ny.format(start) == "2026-10-31 20:00");
  CHECK(ny.format(d) == "2026-11-01 06:30");
  CHECK(ny.abbreviation(d) == "EST");
  // Wall-clock difference is 10 h 30 m, elapsed time 11 h 30 m.
  CHECK((d - start) == hours(11) + minutes(30));
}
