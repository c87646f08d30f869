#include "gpuctl/core/error.hpp"
#include "gpuctl/core/time.hpp"

#include <doctest/doctest.h>

using namespace gpuctl;
using namespace std::chrono;

namespace {
Instant
at(const char* s)
{
  auto t = parse_rfc3339(s);
  REQUIRE(t.has_value());
  return *t;
}
} // namespace

TEST_CASE("RFC 3339 with Z or offset")
{
  CHECK(format_rfc3339(at("2026-11-30T08:00:00Z")) == "2026-11-30T08:00:00Z");
  CHECK(at("2026-11-30T09:00:00+01:00") == at("2026-11-30T08:00:00Z"));
  CHECK(at("2026-11-30 03:00-05:00") == at("2026-11-30T08:00:00Z"));
  CHECK(at("2026-11-30T08:00:00.123Z") == at("2026-11-30T08:00:00Z"));
  CHECK_FALSE(parse_rfc3339("2026-11-30T08:00:00").has_value());
  CHECK_FALSE(parse_rfc3339("2026-02-30T08:00:00Z").has_value());
  CHECK_FALSE(parse_rfc3339("2026-11-30T25:00:00Z").has_value());
  CHECK_FALSE(parse_rfc3339("yesterday").has_value());
}

TEST_CASE("GPUCTL_NOW takes RFC 3339 with an offset or @EPOCH only")
{
  CHECK(make_clock("@1796025600")->now().time_since_epoch().count() == 1796025600);
  CHECK(make_clock("2026-11-30T08:00:00Z")->now() == at("2026-11-30T08:00:00Z"));
  for (const char* bad : {"2026-11-30 08:00", "now", "tomorrow", "@12x", ""}) {
    CAPTURE(bad);
    CHECK_THROWS_AS(make_clock(bad), Error);
  }
  CHECK(make_clock(nullptr)->now() > at("2020-01-01T00:00:00Z"));
}

TEST_CASE("time arguments in the display zone")
{
  Instant now = at("2026-11-30T08:00:00Z");
  DisplayZone utc;
  CHECK(parse_time("now", now, utc) == now);
  CHECK(parse_time("+1h30m", now, utc) == now + hours(1) + minutes(30));
  CHECK(parse_time("-2d", now, utc) == now - days(2));
  CHECK(parse_time("@0", now, utc).time_since_epoch().count() == 0);
  CHECK(parse_time("2026-11-29 10:15", now, utc) == at("2026-11-29T10:15:00Z"));
  CHECK(parse_time("06:30", now, utc) == at("2026-11-30T06:30:00Z"));
  CHECK_THROWS_AS(parse_time("25:00", now, utc), Error);
  CHECK_THROWS_AS(parse_time("tomorrow", now, utc), Error);
  CHECK_THROWS_AS(parse_time("+5", now, utc), Error);

  auto ny = DisplayZone::resolve("America/New_York");
  CHECK(ny.name() == "America/New_York");
  // Winter: UTC-5.
  CHECK(parse_time("2026-11-30 03:00", now, ny) == at("2026-11-30T08:00:00Z"));
  CHECK(parse_time("03:00", now, ny) == at("2026-11-30T08:00:00Z"));
  // 2026-11-01 01:30 happens twice in New York: the earlier instant (EDT, UTC-4).
  CHECK(parse_time("2026-11-01 01:30", now, ny) == at("2026-11-01T05:30:00Z"));
  // 2026-03-08 02:30 does not exist in New York.
  try {
    parse_time("2026-03-08 02:30", now, ny);
    FAIL("accepted a time in the DST gap");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::usage);
    CHECK(std::string(e.what()).find("does not exist") != std::string::npos);
  }
  CHECK(ny.format(at("2026-11-01T05:30:00Z")) == "2026-11-01 01:30");
  CHECK(ny.format(at("2026-11-01T06:30:00Z")) == "2026-11-01 01:30");
  CHECK(ny.abbreviation(at("2026-11-01T05:30:00Z")) == "EDT");
  CHECK(ny.abbreviation(at("2026-11-01T06:30:00Z")) == "EST");
  CHECK_THROWS_AS(DisplayZone::resolve("Mars/Olympus"), Error);
}
