#include "gpuctl/core/duration.hpp"
#include "gpuctl/core/error.hpp"

#include <doctest/doctest.h>

using namespace gpuctl;

TEST_CASE("durations parse per DESIGN §9")
{
  CHECK(parse_duration("90m") == Seconds(5400));
  CHECK(parse_duration("1h30m") == Seconds(5400));
  CHECK(parse_duration("1.5h") == Seconds(5400));
  CHECK(parse_duration("2d") == Seconds(172800));
  CHECK(parse_duration("45s") == Seconds(45));
  CHECK(parse_duration("1h90m") == Seconds(9000));
  CHECK(parse_duration("1d2h3m4s") == Seconds(93784));
  CHECK(parse_duration("0s") == Seconds(0));
  CHECK(parse_duration_or_never("never") == std::nullopt);
  CHECK(parse_duration_or_never("30m") == Seconds(1800));
}

TEST_CASE("bad durations are usage errors naming the value")
{
  for (const char* bad : {"", "12", "-5m", "+5m", "5x", "1m1h", "1h1h", "h", "1.2.3h", ".5h", "5.h",
                          "1 h", "never", "5 m", "1hh", "3651d", "9999999d"}) {
    CAPTURE(bad);
    try {
      parse_duration(bad, "--idle-for");
      FAIL("accepted");
    } catch (const Error& e) {
      CHECK(e.kind() == ErrorKind::usage);
      CHECK(std::string(e.what()).find("--idle-for") != std::string::npos);
    }
  }
}

TEST_CASE("durations stop at ten years")
{
  CHECK(parse_duration("3650d", "--session-max") == Seconds(3650LL * 86400));
  CHECK_THROWS_WITH_AS(parse_duration("3650d1s", "--session-max"),
                       "invalid --session-max '3650d1s': too large (at most 3650d) (use e.g. 90m, "
                       "1h30m, 1.5h, 2d)",
                       Error);
}

TEST_CASE("durations format compactly and for humans")
{
  CHECK(format_duration(Seconds(43200)) == "12h");
  CHECK(format_duration(Seconds(5400)) == "1h30m");
  CHECK(format_duration(Seconds(0)) == "0s");
  CHECK(human_duration(Seconds(2 * 86400 + 4 * 3600 + 59)) == "2d 4h");
  CHECK(human_duration(Seconds(3 * 3600 + 5 * 60)) == "3h 5m");
  CHECK(human_duration(Seconds(45)) == "45s");
  CHECK(human_duration(Seconds(-1800)) == "-30m");
}
