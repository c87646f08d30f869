// End-to-end: gpuctl schedule on the seeds' 7+7 fleet, checked by the independent checker
// (issue 6 acceptance 1, 3, 4).
#include "gpuctl/core/time.hpp"
#include "support/plan_checker.hpp"
#include "support/support.hpp"

#include <doctest/doctest.h>

#include <cstdlib>

using namespace gpuctl::test;
using nlohmann::json;

namespace {

const gpuctl::Instant k_from = *gpuctl::parse_rfc3339("2026-11-30T08:00:00Z");

void
register_fleet(Cli& cli)
{
  for (int i = 1; i <= 7; ++i) {
    std::string n = "0" + std::to_string(i);
    cli.ok({"account", "add", "colab-" + n, "--provider", "colab"});
    cli.ok({"worker", "add", "colab-" + n + "-w", "--account", "colab-" + n, "--gpu", "T4"});
    cli.ok({"account", "add", "kaggle-" + n, "--provider", "kaggle"});
    cli.ok({"worker", "add", "kaggle-" + n + "-w", "--account", "kaggle-" + n, "--gpu", "T4"});
  }
}

// The same fleet as the checker sees it, from the default policies (DESIGN §4) alone.
CFleet
checker_fleet(std::int64_t kaggle_used_min = 0)
{
  CFleet f;
  f.horizon = 7 * 1440;
  for (int i = 1; i <= 7; ++i) {
    std::string n = "0" + std::to_string(i);
    CAccount c{"colab-" + n, {"colab-" + n + "-w"}, 1, 690, {}};
    for (std::int64_t s = -480; s < f.horizon; s += 1440) c.windows.push_back({"daily", s, s + 1440, 504});
    CAccount k{"kaggle-" + n, {"kaggle-" + n + "-w"}, 2, 690, {}};
    for (std::int64_t s = -(2 * 1440 + 480); s < f.horizon; s += 7 * 1440) {
      k.windows.push_back({"weekly", s, s + 7 * 1440, s < 0 ? 1260 - kaggle_used_min : 1260});
    }
    f.accounts.push_back(c);
    f.accounts.push_back(k);
  }
  return f;
}

std::vector<CSlot>
slots_of(const json& plan)
{
  std::vector<CSlot> out;
  for (const auto& s : plan["slots"]) {
    auto a = *gpuctl::parse_rfc3339(s["start"].get<std::string>());
    auto b = *gpuctl::parse_rfc3339(s["end"].get<std::string>());
    out.push_back({s["worker"], s["account"],
                   std::chrono::duration_cast<std::chrono::minutes>(a - k_from).count(),
                   std::chrono::duration_cast<std::chrono::minutes>(b - k_from).count()});
  }
  return out;
}

void
check_plan(const CFleet& f, const json& plan)
{
  auto slots = slots_of(plan);
  auto problems = check_slots(f, slots);
  CHECK_MESSAGE(problems.empty(), (problems.empty() ? "" : problems.front()));
  auto sum = summarise_slots(f, slots);
  CHECK(plan["min_online"] == sum.min_online);
  CHECK(plan["mean_online"].get<double>() == doctest::Approx(sum.mean_online).epsilon(0.001));
  CHECK(plan["above_min_hours"].get<double>() == doctest::Approx(sum.above_min_hours).epsilon(0.001));
  CHECK(plan["planned_hours"].get<double>() == doctest::Approx(sum.planned_hours).epsilon(0.001));
  CHECK(plan["sessions"] == sum.sessions);
  CHECK(plan["min_sessions"] == sum.min_sessions);
}

} // namespace

TEST_CASE("schedule 24x7 on the 7+7 fleet: min_online equals the ceiling, checked independently")
{
  Cli cli;
  register_fleet(cli);
  auto before = file_hash(cli.db_path());
  json plan = cli.ok({"schedule", "--strategy", "24x7", "--json"}).json();
  for (const char* f : {"strategy", "from", "to", "tz", "min_online", "ceiling", "mean_online",
                        "above_min_hours", "planned_hours", "sessions", "min_sessions", "slots", "online"}) {
    CHECK(plan.contains(f));
  }
  CHECK(plan["strategy"] == "24x7");
  CHECK(plan["from"] == "2026-11-30T08:00:00Z");
  CHECK(plan["to"] == "2026-12-07T08:00:00Z");
  CHECK(plan["tz"] == "UTC");
  CFleet f = checker_fleet();
  int bound = flow_bound(f);
  CHECK(bound == 3);
  CHECK(plan["ceiling"] == bound);
  CHECK(plan["min_online"] == bound);
  check_plan(f, plan);
  for (const auto& s : plan["slots"]) {
    for (const char* k : {"worker", "account", "provider", "start", "end"}) CHECK(s.contains(k));
  }
  // Without --save nothing is written.
  CHECK(file_hash(cli.db_path()) == before);

  // Recorded usage counts: 15 h already used this week on every Kaggle account.
  for (int i = 1; i <= 7; ++i) {
    std::string w = "kaggle-0" + std::to_string(i) + "-w";
    cli.ok({"session", "add", w, "--start", "2026-11-28T09:00:00Z", "--end", "2026-11-29T00:00:00Z"});
  }
  json used = cli.ok({"schedule", "--strategy", "24x7", "--json"}).json();
  CFleet fu = checker_fleet(15 * 60);
  CHECK(used["ceiling"] == flow_bound(fu));
  CHECK(used["min_online"] == used["ceiling"]);
  check_plan(fu, used);
}

TEST_CASE("burst and economy --keep 2 on the 7+7 fleet")
{
  Cli cli;
  register_fleet(cli);
  CFleet f = checker_fleet();
  json burst = cli.ok({"schedule", "--strategy", "burst", "--json"}).json();
  check_plan(f, burst);
  REQUIRE_FALSE(burst["online"].empty());
  CHECK(burst["online"][0]["start"] == "2026-11-30T08:00:00Z");
  CHECK(burst["online"][0]["count"] == 14);
  CHECK(burst["online"][0]["by_provider"]["kaggle"] == 7);
  CHECK(burst["online"][0]["by_provider"]["colab"] == 7);

  json eco = cli.ok({"schedule", "--strategy", "economy", "--keep", "2", "--json"}).json();
  check_plan(f, eco);
  std::int64_t sustain = sustain_minutes(f, 2);
  auto until = k_from + std::chrono::minutes(sustain);
  for (const auto& st : eco["online"]) {
    CHECK(st["count"].get<int>() <= 2);
    if (*gpuctl::parse_rfc3339(st["start"].get<std::string>()) < until) CHECK(st["count"] == 2);
  }
  CHECK(cli.run({"schedule", "--strategy", "economy"}).code == 2);
  CHECK(cli.run({"schedule", "--strategy", "24x7", "--keep", "2"}).code == 2);
  CHECK(cli.run({"schedule", "--strategy", "fastest"}).code == 2);
  CHECK(cli.run({"schedule", "--strategy", "24x7", "--format", "pdf"}).code == 2);
  CHECK(cli.run({"schedule", "--strategy", "24x7", "--days", "0"}).code == 2);
  auto none = cli.run({"schedule", "--strategy", "24x7", "--providers", ""}); // not "every provider"
  CHECK(none.code == 2);
  CHECK(none.err == "gpuctl: error: --providers needs at least one provider (kaggle, colab, vast, ssh)\n");
  CHECK(cli.run({"schedule", "--strategy", "24x7", "--providers", "kaggle,"}).code == 2);
}

TEST_CASE("schedule formats and --save")
{
  Cli cli;
  register_fleet(cli);
  auto table = cli.ok({"schedule", "--strategy", "24x7"});
  CHECK(table.out.find("min 3 online (ceiling 3)") != std::string::npos);
  CHECK(table.out.find("2026-11-30 08:00") != std::string::npos);
  cli.env["COLUMNS"] = "100";
  auto gantt = cli.ok({"schedule", "--strategy", "24x7", "--format", "gantt", "--tz", "Europe/Berlin"});
  CHECK(gantt.out.find("kaggle-07-w") != std::string::npos);
  CHECK(gantt.out.find("█") != std::string::npos);
  for (size_t pos = 0, end; (end = gantt.out.find('\n', pos)) != std::string::npos; pos = end + 1) {
    std::string line = gantt.out.substr(pos, end - pos);
    size_t cols = 0;
    for (unsigned char c : line) cols += (c & 0xC0) != 0x80;
    if (line.find("24x7:") != 0) CHECK(cols <= 100);
  }

  auto ics = cli.ok({"schedule", "--strategy", "24x7", "--format", "ics"});
  std::string path = cli.dir() / "plan.ics";
  write_file(path, ics.out);
  // Debian's python3-icalendar must read it (it is lenient; the unit test checks RFC 5545 itself).
  std::string cmd = "/usr/bin/python3 -c \"import icalendar,sys; c=icalendar.Calendar.from_ical(open('" + path +
                    "','rb').read()); ev=[e for e in c.walk('VEVENT')]; sys.exit(0 if ev and all(e.get('dtstart') and "
                    "e.walk('VALARM') for e in ev) else 1)\"";
  CHECK(std::system(cmd.c_str()) == 0);

  json plan = cli.ok({"schedule", "--strategy", "24x7", "--save", "--json"}).json();
  json w = cli.ok({"worker", "show", "kaggle-01-w", "--json"}).json();
  CHECK(w["control"] == "plan");
  cli.ok({"schedule", "--strategy", "economy", "--keep", "1", "--save", "--providers", "kaggle"});
  CHECK(cli.ok({"worker", "show", "colab-01-w", "--json"}).json()["control"] == "manual");
}

TEST_CASE("a vast account's max_usd_per_day bounds its planned hours per UTC day")
{
  Cli cli;
  cli.ok({"account", "add", "rented", "--provider", "vast", "--max-usd-per-day", "1"});
  cli.ok({"worker", "add", "v1", "--account", "rented", "--price", "0.4"});
  json plan = cli.ok({"schedule", "--strategy", "burst", "--days", "2", "--json"}).json();
  // $1 a day at $0.40/h: 2.5 h on each of the three UTC days the 48 h touch.
  CHECK(plan["planned_hours"].get<double>() == doctest::Approx(7.5));
  for (const auto& s : plan["slots"]) {
    auto a = *gpuctl::parse_rfc3339(s["start"].get<std::string>());
    auto b = *gpuctl::parse_rfc3339(s["end"].get<std::string>());
    CHECK(b - a <= std::chrono::minutes(150));
  }
}

TEST_CASE("a session opened at a time with seconds: the plan keeps whole minutes and no overlap, "
          "its remaining hours count before a later --from, and --from in the past is refused")
{
  Cli cli;
  cli.ok({"account", "add", "team", "--provider", "kaggle"});
  cli.ok({"worker", "add", "k1", "--account", "team"});
  cli.ok({"session", "start", "k1", "--at", "2026-11-30T07:33:15Z"}); // deadline 19:03:15
  json plan = cli.ok({"schedule", "--strategy", "24x7", "--days", "1", "--json"}).json();
  REQUIRE(plan["slots"].size() >= 2);
  std::optional<gpuctl::Instant> last_end;
  for (const auto& s : plan["slots"]) {
    auto start = *gpuctl::parse_rfc3339(s["start"].get<std::string>());
    auto end = *gpuctl::parse_rfc3339(s["end"].get<std::string>());
    CAPTURE(s.dump());
    CHECK(start.time_since_epoch().count() % 60 == 0);
    CHECK(end.time_since_epoch().count() % 60 == 0);
    if (last_end) {
      CHECK(start >= *last_end); // one worker: one session at a time
    }
    last_end = end;
  }
  CHECK(plan["slots"][0]["end"] == "2026-11-30T19:04:00Z"); // the next whole minute
  // From the day after tomorrow: this week's 21 safe hours less the 0.45 h used by 08:00 and the
  // 11.05 h the session still runs leave 9.5 h: the plan must not hand those out twice.
  json later = cli.ok({"schedule", "--strategy", "24x7", "--days", "1", "--from", "+2d", "--json"}).json();
  CHECK(later["planned_hours"].get<double>() <= 21 - 0.45 - 11.05 + 0.02);
  auto past = cli.run({"schedule", "--strategy", "24x7", "--from", "-3d"});
  CHECK(past.code == 2);
  CHECK(past.err.find("is in the past") != std::string::npos);
  CHECK(std::count(past.err.begin(), past.err.end(), '\n') == 1);
}

TEST_CASE("a session running at --from stays in the plan as a fixed slot until its deadline")
{
  Cli cli;
  cli.ok({"account", "add", "team", "--provider", "kaggle"});
  cli.ok({"worker", "add", "k1", "--account", "team"});
  cli.ok({"worker", "add", "k2", "--account", "team"});
  cli.ok({"session", "start", "k1", "--at", "07:00"}); // deadline 18:30 (12 h cap − 30 min)
  json plan = cli.ok({"schedule", "--strategy", "24x7", "--days", "1", "--json"}).json();
  bool fixed = false;
  for (const auto& s : plan["slots"]) {
    if (s["worker"] == "k1" && s["start"] == "2026-11-30T08:00:00Z") {
      fixed = true;
      CHECK(s["end"] == "2026-11-30T18:30:00Z");
    }
  }
  CHECK(fixed);
  // Nothing else on k1 while it runs, and the weekly budget (21 h safe, 1 h used, 10.5 h held by
  // the running session) leaves 9.5 h for the rest.
  for (const auto& s : plan["slots"]) {
    if (s["worker"] == "k1" && s["start"] != "2026-11-30T08:00:00Z") {
      CHECK(*gpuctl::parse_rfc3339(s["start"].get<std::string>()) >= *gpuctl::parse_rfc3339("2026-11-30T18:30:00Z"));
    }
  }
  CHECK(plan["planned_hours"].get<double>() == doctest::Approx(10.5 + 9.5));
  CHECK(plan["min_online"] == 0);
}
