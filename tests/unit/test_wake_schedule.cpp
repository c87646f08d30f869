// SPDX-License-Identifier: MIT
// hibernate/wake_schedule: wake/sleep times in local time across DST (DESIGN §8).
#include "gpuctl/core/error.hpp"
#include "gpuctl/core/time.hpp"
#include "gpuctl/hibernate/wake_schedule.hpp"

#include <doctest/doctest.h>

using namespace gpuctl;
using namespace gpuctl::hibernate;
using namespace std::chrono;

namespace {
Instant
at(const char* s)
{
  auto t = parse_rfc3339(s);
  REQUIRE(t.has_value());
  return *t;
}

std::vector<std::string>
texts(const std::vector<Instant>& v)
{
  std::vector<std::string> out;
  for (auto t : v) {
    out.push_back(format_rfc3339(t));
  }
  return out;
}

using Strings = std::vector<std::string>;

const DisplayZone&
new_york()
{
  static const DisplayZone z = DisplayZone::resolve("America/New_York");
  return z;
}

/// The usage error's message, or "" when `f` does not throw one.
template <typename F>
std::string
usage_error(F f)
{
  try {
    f();
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::usage);
    return e.what();
  }
  return "";
}
} // namespace

TEST_CASE("wake schedule - parse_clock reads HH:MM and names the flag on errors")
{
  CHECK(parse_clock("09:00", "--wake") == 540);
  CHECK(parse_clock("9:05", "--wake") == 545);
  CHECK(parse_clock("00:00", "--wake") == 0);
  CHECK(parse_clock("23:59", "--sleep") == 1439);
  CHECK(clock_text(545) == "09:05");
  CHECK(clock_text(0) == "00:00");
  for (const char* bad : {"24:00", "9", "09:60", "9:5", "", "09:00:00", "ab:cd", " 9:00", "-1:00",
                          "123:00", "09-00", ":30"}) {
    CAPTURE(bad);
    std::string msg = usage_error([&] { parse_clock(bad, "--sleep"); });
    CHECK(msg.find("--sleep") != std::string::npos);
    CHECK(msg.find(std::string("'") + bad + "'") != std::string::npos);
  }
}

TEST_CASE("wake schedule - parse_days accepts names, ranges and words, case-insensitive")
{
  CHECK(parse_days("mon-fri") == 0x1f);
  CHECK(parse_days("sat,sun") == 0x60);
  CHECK(parse_days("mon,wed-fri") == 0x1d);
  CHECK(parse_days("daily") == 0x7f);
  CHECK(parse_days("all") == 0x7f);
  CHECK(parse_days("weekdays") == 0x1f);
  CHECK(parse_days("weekends") == 0x60);
  CHECK(parse_days("MON-Fri") == 0x1f);
  CHECK(parse_days("Sunday") == 0x40);
  CHECK(parse_days("fri-mon") == 0x71); // wraps: fri sat sun mon
  CHECK(parse_days("weekends, mon") == 0x61);
  CHECK(parse_days("tue-tue") == 0x02);
  for (const char* bad : {"", " ", "mon-", "funday", "mon,,tue", "mon-xyz", "mon,", "weekday"}) {
    CAPTURE(bad);
    std::string msg = usage_error([&] { parse_days(bad); });
    CHECK(msg.find("--days") != std::string::npos);
  }
}

TEST_CASE("wake schedule - days_text is canonical and parses back")
{
  CHECK(days_text(0x7f) == "daily");
  CHECK(days_text(0x1f) == "mon-fri");
  CHECK(days_text(0x60) == "sat,sun");
  CHECK(days_text(0x1d) == "mon,wed-fri");
  CHECK(days_text(0x41) == "mon,sun");
  CHECK(days_text(0) == "none");
  for (int m = 1; m < 128; ++m) {
    CAPTURE(m);
    CHECK(parse_days(days_text(static_cast<std::uint8_t>(m))) == m);
  }
}

TEST_CASE("wake schedule - 09:00 and 18:00 on ordinary days in EST and EDT")
{
  const auto& ny = new_york();
  // Thursday 2026-01-15, EST (UTC-5).
  CHECK(texts(fire_instants(9 * 60, all_days, ny, at("2026-01-15T00:00:00Z"),
                            at("2026-01-16T00:00:00Z"))) == Strings{"2026-01-15T14:00:00Z"});
  CHECK(texts(fire_instants(18 * 60, all_days, ny, at("2026-01-15T00:00:00Z"),
                            at("2026-01-16T00:00:00Z"))) == Strings{"2026-01-15T23:00:00Z"});
  // Wednesday 2026-07-15, EDT (UTC-4).
  CHECK(texts(fire_instants(9 * 60, all_days, ny, at("2026-07-15T00:00:00Z"),
                            at("2026-07-16T00:00:00Z"))) == Strings{"2026-07-15T13:00:00Z"});
  CHECK(texts(fire_instants(18 * 60, all_days, ny, at("2026-07-15T00:00:00Z"),
                            at("2026-07-16T00:00:00Z"))) == Strings{"2026-07-15T22:00:00Z"});
  // The window is (from, to]: a firing exactly at `from` belongs to the previous window.
  CHECK(fire_instants(9 * 60, all_days, ny, at("2026-01-15T14:00:00Z"), at("2026-01-15T20:00:00Z"))
          .empty());
  CHECK(fire_instants(9 * 60, all_days, ny, at("2026-01-15T10:00:00Z"), at("2026-01-15T14:00:00Z"))
          .size() == 1);
  CHECK(fire_instants(9 * 60, all_days, ny, at("2026-01-15T14:00:00Z"), at("2026-01-15T14:00:00Z"))
          .empty());
  // 23:30 local is the next UTC date: a window of UTC dates finds the local dates either side.
  CHECK(texts(fire_instants(23 * 60 + 30, all_days, ny, at("2026-01-16T00:00:00Z"),
                            at("2026-01-17T06:00:00Z"))) ==
        Strings{"2026-01-16T04:30:00Z", "2026-01-17T04:30:00Z"});
  CHECK_THROWS_AS(fire_instants(1440, all_days, ny, at("2026-01-15T00:00:00Z"),
                                at("2026-01-16T00:00:00Z")),
                  Error);
  CHECK_THROWS_AS(fire_instants(-1, all_days, ny, at("2026-01-15T00:00:00Z"),
                                at("2026-01-16T00:00:00Z")),
                  Error);
}

TEST_CASE("wake schedule - days masks - mon-fri skips the weekend")
{
  const auto& ny = new_york();
  // Friday 2026-01-16 through Tuesday 2026-01-20.
  auto got = fire_instants(9 * 60, parse_days("mon-fri"), ny, at("2026-01-16T00:00:00Z"),
                           at("2026-01-21T00:00:00Z"));
  CHECK(texts(got) ==
        Strings{"2026-01-16T14:00:00Z", "2026-01-19T14:00:00Z", "2026-01-20T14:00:00Z"});
  got = fire_instants(9 * 60, parse_days("weekends"), ny, at("2026-01-16T00:00:00Z"),
                      at("2026-01-21T00:00:00Z"));
  CHECK(texts(got) == Strings{"2026-01-17T14:00:00Z", "2026-01-18T14:00:00Z"});
  CHECK(fire_instants(9 * 60, 0, ny, at("2026-01-16T00:00:00Z"), at("2026-01-21T00:00:00Z")).empty());
  // The weekday is the local one: 23:30 Friday in New York is Saturday in UTC.
  got = fire_instants(23 * 60 + 30, parse_days("fri"), ny, at("2026-01-16T00:00:00Z"),
                      at("2026-01-19T00:00:00Z"));
  CHECK(texts(got) == Strings{"2026-01-17T04:30:00Z"});
}

TEST_CASE("wake schedule - spring forward in New York - a time in the gap fires at the end of the gap")
{
  const auto& ny = new_york();
  // 2026-03-08 (Sunday): 02:00 EST jumps to 03:00 EDT at 07:00Z.
  auto day = [&](int minute) {
    return texts(fire_instants(minute, all_days, ny, at("2026-03-08T00:00:00Z"),
                               at("2026-03-09T00:00:00Z")));
  };
  CHECK(day(2 * 60 + 30) == Strings{"2026-03-08T07:00:00Z"}); // 02:30 → 03:00 EDT
  CHECK(day(2 * 60) == Strings{"2026-03-08T07:00:00Z"});      // 02:00 does not exist either
  CHECK(day(2 * 60 + 59) == Strings{"2026-03-08T07:00:00Z"});
  CHECK(day(3 * 60) == Strings{"2026-03-08T07:00:00Z"});      // 03:00 EDT itself
  CHECK(day(1 * 60 + 59) == Strings{"2026-03-08T06:59:00Z"}); // 01:59 EST
  CHECK(day(3 * 60 + 1) == Strings{"2026-03-08T07:01:00Z"});
  CHECK(ny.abbreviation(at("2026-03-08T07:00:00Z")) == "EDT");
  CHECK(ny.format(at("2026-03-08T07:00:00Z")) == "2026-03-08 03:00");
  // Once a day across the whole week: exactly seven firings, the gap day included.
  auto week = fire_instants(2 * 60 + 30, all_days, ny, at("2026-03-05T00:00:00Z"),
                            at("2026-03-12T00:00:00Z"));
  CHECK(texts(week) == Strings{"2026-03-05T07:30:00Z", "2026-03-06T07:30:00Z",
                               "2026-03-07T07:30:00Z", "2026-03-08T07:00:00Z",
                               "2026-03-09T06:30:00Z", "2026-03-10T06:30:00Z",
                               "2026-03-11T06:30:00Z"});
  // The Sunday-only schedule fires on the gap day; a Saturday-only one does not.
  CHECK(fire_instants(2 * 60 + 30, parse_days("sun"), ny, at("2026-03-05T00:00:00Z"),
                      at("2026-03-12T00:00:00Z"))
          .size() == 1);
  CHECK(texts(fire_instants(2 * 60 + 30, parse_days("sat"), ny, at("2026-03-05T00:00:00Z"),
                            at("2026-03-12T00:00:00Z"))) == Strings{"2026-03-07T07:30:00Z"});
}

TEST_CASE("wake schedule - fall back in New York - a repeated time fires once, at its first occurrence")
{
  const auto& ny = new_york();
  // 2026-11-01 (Sunday): 02:00 EDT goes back to 01:00 EST at 06:00Z; 01:00-02:00 happens twice.
  auto window = [&](int minute, const char* from, const char* to) {
    return texts(fire_instants(minute, all_days, ny, at(from), at(to)));
  };
  CHECK(window(90, "2026-11-01T00:00:00Z", "2026-11-02T00:00:00Z") ==
        Strings{"2026-11-01T05:30:00Z"}); // 01:30 EDT, not 06:30Z (01:30 EST)
  CHECK(window(150, "2026-11-01T00:00:00Z", "2026-11-02T00:00:00Z") ==
        Strings{"2026-11-01T07:30:00Z"}); // 02:30 EST
  CHECK(window(60, "2026-11-01T00:00:00Z", "2026-11-02T00:00:00Z") ==
        Strings{"2026-11-01T05:00:00Z"}); // 01:00 EDT
  CHECK(window(0, "2026-11-01T00:00:00Z", "2026-11-02T00:00:00Z") ==
        Strings{"2026-11-01T04:00:00Z"});
  // Never twice: sweeps every 15 minutes through the night see the 01:30 firing once in all.
  std::vector<Instant> all;
  for (Instant t = at("2026-11-01T03:00:00Z"); t < at("2026-11-01T10:00:00Z"); t += minutes(15)) {
    for (auto f : fire_instants(90, all_days, ny, t, t + minutes(15))) {
      all.push_back(f);
    }
  }
  CHECK(texts(all) == Strings{"2026-11-01T05:30:00Z"});
  // Three days around it: EDT, the first occurrence, EST.
  CHECK(window(90, "2026-10-31T00:00:00Z", "2026-11-02T12:00:00Z") ==
        Strings{"2026-10-31T05:30:00Z", "2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z"});
  CHECK(ny.abbreviation(at("2026-11-01T05:30:00Z")) == "EDT");
}

TEST_CASE("wake schedule - Europe/Berlin and Asia/Kolkata")
{
  auto berlin = DisplayZone::resolve("Europe/Berlin");
  // 2026-03-29: 02:00 CET → 03:00 CEST at 01:00Z; 02:30 fires at 03:00 CEST.
  CHECK(texts(fire_instants(150, all_days, berlin, at("2026-03-29T00:00:00Z"),
                            at("2026-03-30T00:00:00Z"))) == Strings{"2026-03-29T01:00:00Z"});
  // 2026-10-25: 03:00 CEST → 02:00 CET at 01:00Z; 02:30 first happens at 00:30Z (CEST).
  CHECK(texts(fire_instants(150, all_days, berlin, at("2026-10-25T00:00:00Z"),
                            at("2026-10-26T00:00:00Z"))) == Strings{"2026-10-25T00:30:00Z"});
  CHECK(texts(fire_instants(9 * 60, all_days, berlin, at("2026-07-01T00:00:00Z"),
                            at("2026-07-02T00:00:00Z"))) == Strings{"2026-07-01T07:00:00Z"});
  auto kolkata = DisplayZone::resolve("Asia/Kolkata"); // UTC+05:30, no DST
  CHECK(texts(fire_instants(9 * 60, all_days, kolkata, at("2026-03-08T00:00:00Z"),
                            at("2026-03-09T00:00:00Z"))) == Strings{"2026-03-08T03:30:00Z"});
  // 02:00 in Kolkata is the previous UTC evening.
  CHECK(texts(fire_instants(2 * 60, all_days, kolkata, at("2026-03-08T00:00:00Z"),
                            at("2026-03-09T00:00:00Z"))) == Strings{"2026-03-08T20:30:00Z"});
  DisplayZone utc;
  CHECK(texts(fire_instants(9 * 60, all_days, utc, at("2026-03-08T00:00:00Z"),
                            at("2026-03-09T00:00:00Z"))) == Strings{"2026-03-08T09:00:00Z"});
}

TEST_CASE("wake schedule - due - a late sweep applies the firing it missed")
{
  const auto& ny = new_york();
  WakeSchedule s;
  s.wake_min = 9 * 60;
  s.sleep_min = 18 * 60;
  s.tz = "America/New_York";
  s.days = parse_days("mon-fri");
  // Monday 2026-01-19: the sweep before 09:00 local, the next one at 10:30 (cron was late).
  Due d = due(s, ny, at("2026-01-19T13:00:00Z"), at("2026-01-19T15:30:00Z"));
  CHECK(d.wake);
  CHECK_FALSE(d.sleep);
  REQUIRE(d.wake_at.has_value());
  CHECK(format_rfc3339(*d.wake_at) == "2026-01-19T14:00:00Z");
  CHECK_FALSE(d.sleep_at.has_value());
  // The next sweep sees nothing: a firing is applied once.
  d = due(s, ny, at("2026-01-19T15:30:00Z"), at("2026-01-19T15:31:00Z"));
  CHECK_FALSE(d.wake);
  CHECK_FALSE(d.sleep);
  // At 18:00 local: sleep.
  d = due(s, ny, at("2026-01-19T22:59:00Z"), at("2026-01-19T23:00:00Z"));
  CHECK(d.sleep);
  CHECK_FALSE(d.wake);
  // An empty or backwards window: nothing.
  d = due(s, ny, at("2026-01-19T23:00:00Z"), at("2026-01-19T23:00:00Z"));
  CHECK_FALSE(d.sleep);
  d = due(s, ny, at("2026-01-20T23:00:00Z"), at("2026-01-19T23:00:00Z"));
  CHECK_FALSE(d.sleep);
  CHECK_FALSE(d.sleep_at.has_value());
  // No sleep time: only wakes.
  WakeSchedule wake_only = s;
  wake_only.sleep_min.reset();
  d = due(wake_only, ny, at("2026-01-19T13:00:00Z"), at("2026-01-20T00:00:00Z"));
  CHECK(d.wake);
  CHECK_FALSE(d.sleep_at.has_value());
}

TEST_CASE("wake schedule - due - when both fired the later one wins")
{
  const auto& ny = new_york();
  WakeSchedule s;
  s.wake_min = 9 * 60;
  s.sleep_min = 18 * 60;
  s.tz = "America/New_York";
  s.days = parse_days("mon-fri");
  // Monday 08:00 to 19:00 local: wake at 09:00, sleep at 18:00 → sleep.
  Due d = due(s, ny, at("2026-01-19T13:00:00Z"), at("2026-01-20T00:00:00Z"));
  CHECK(d.sleep);
  CHECK_FALSE(d.wake);
  REQUIRE(d.wake_at.has_value());
  REQUIRE(d.sleep_at.has_value());
  CHECK(format_rfc3339(*d.wake_at) == "2026-01-19T14:00:00Z");
  CHECK(format_rfc3339(*d.sleep_at) == "2026-01-19T23:00:00Z");
  // Down over the weekend: Friday 17:00 to Monday 10:00 local → the Monday wake wins over the
  // Friday sleep.
  d = due(s, ny, at("2026-01-16T22:00:00Z"), at("2026-01-19T15:00:00Z"));
  CHECK(d.wake);
  CHECK_FALSE(d.sleep);
  CHECK(format_rfc3339(*d.wake_at) == "2026-01-19T14:00:00Z");
  CHECK(format_rfc3339(*d.sleep_at) == "2026-01-16T23:00:00Z");
  // Several days late: the latest of each kind is reported.
  d = due(s, ny, at("2026-01-12T13:00:00Z"), at("2026-01-16T15:00:00Z"));
  CHECK(d.wake);
  CHECK(format_rfc3339(*d.wake_at) == "2026-01-16T14:00:00Z");
  CHECK(format_rfc3339(*d.sleep_at) == "2026-01-15T23:00:00Z");
}

TEST_CASE("wake schedule - due across DST - gap times and a tie inside one gap")
{
  const auto& ny = new_york();
  WakeSchedule s;
  s.tz = "America/New_York";
  s.wake_min = 2 * 60 + 15;
  s.sleep_min = 2 * 60 + 45;
  // Both fall in the 2026-03-08 gap and fire at 07:00Z: the later local time (sleep) wins.
  Due d = due(s, ny, at("2026-03-08T06:00:00Z"), at("2026-03-08T07:00:00Z"));
  CHECK(d.sleep);
  CHECK_FALSE(d.wake);
  CHECK(d.wake_at == d.sleep_at);
  std::swap(s.wake_min, s.sleep_min);
  d = due(s, ny, at("2026-03-08T06:00:00Z"), at("2026-03-08T07:00:00Z"));
  CHECK(d.wake);
  CHECK_FALSE(d.sleep);
  // A 01:30 wake during the repeated hour: due at 05:30Z, not again at 06:30Z.
  WakeSchedule w;
  w.tz = "America/New_York";
  w.wake_min = 90;
  CHECK(due(w, ny, at("2026-11-01T05:00:00Z"), at("2026-11-01T05:30:00Z")).wake);
  CHECK_FALSE(due(w, ny, at("2026-11-01T05:30:00Z"), at("2026-11-01T07:00:00Z")).wake);
}
