// End-to-end: sessions and quota through the real binary (issue 5 acceptance 1–5).
#include "support/support.hpp"

#include <doctest/doctest.h>

#include <set>

using namespace gpuctl::test;
using nlohmann::json;

namespace {

std::set<std::string>
keys(const json& j)
{
  std::set<std::string> out;
  for (auto it = j.begin(); it != j.end(); ++it) {
    out.insert(it.key());
  }
  return out;
}

const std::set<std::string> k_quota_fields = {"account", "provider", "status",  "share",
                                              "binding", "left_h",   "usable_h", "next_reset",
                                              "estimated", "windows", "sessions"};
const std::set<std::string> k_window_fields = {"kind", "start", "end", "budget_h", "used_h", "left_h", "share"};
const std::set<std::string> k_session_fields = {"id", "worker", "account", "started", "ended",
                                                "duration_s", "reason", "deadline"};

void
kaggle_fleet(Cli& cli)
{
  cli.ok({"account", "add", "alice", "--provider", "kaggle"});
  for (const char* w : {"k1", "k2", "k3"}) {
    cli.ok({"worker", "add", w, "--account", "alice", "--gpu", "T4"});
  }
}

} // namespace

TEST_CASE("a Kaggle account with 21 h this week: used 21, left 9, share 0.70, warning")
{
  Cli cli;
  kaggle_fleet(cli);
  cli.ok({"session", "add", "k1", "--start", "2026-11-28T01:00:00Z", "--end", "2026-11-28T13:00:00Z"});
  cli.ok({"session", "add", "k2", "--start", "2026-11-29 01:00", "--end", "2026-11-29 10:00"});
  json q = cli.ok({"quota", "alice", "--json"}).json();
  CHECK(keys(q) == k_quota_fields);
  CHECK(q["account"] == "alice");
  CHECK(q["provider"] == "kaggle");
  CHECK(q["status"] == "warning");
  CHECK(q["share"] == doctest::Approx(0.70));
  CHECK(q["binding"] == "weekly");
  CHECK(q["left_h"] == doctest::Approx(9.0));
  CHECK(q["usable_h"] == doctest::Approx(0.0));
  CHECK(q["next_reset"] == "2026-12-05T00:00:00Z");
  CHECK(q["estimated"] == false);
  CHECK(q["sessions"].empty());
  REQUIRE(q["windows"].size() == 1);
  const json& w = q["windows"][0];
  CHECK(keys(w) == k_window_fields);
  CHECK(w["kind"] == "weekly");
  CHECK(w["start"] == "2026-11-28T00:00:00Z");
  CHECK(w["end"] == "2026-12-05T00:00:00Z");
  CHECK(w["budget_h"] == 30.0);
  CHECK(w["used_h"] == doctest::Approx(21.0));
  CHECK(w["left_h"] == doctest::Approx(9.0));
  CHECK(w["share"] == doctest::Approx(0.70));

  // Just after the weekly reset: nothing used.
  json fresh = cli.run({"quota", "alice", "--json"}, {{"GPUCTL_NOW", "2026-12-05T00:00:01Z"}}).json();
  CHECK(fresh["windows"][0]["used_h"] == 0.0);
  CHECK(fresh["status"] == "safe");
  CHECK(fresh["share"] == 0.0);

  // The list form holds every account; the human table says the same.
  json all = cli.ok({"quota", "--json"}).json();
  REQUIRE(all.is_array());
  CHECK(all.size() == 1);
  auto human = cli.ok({"quota"});
  CHECK(human.out.find("warning") != std::string::npos);
  CHECK(human.out.find("21.0h") != std::string::npos);
  CHECK(human.out.find("in 4d 16h") != std::string::npos);

  json st = cli.ok({"status", "--json"}).json();
  CHECK(st["accounts"]["warning"] == 1);
  CHECK(st["accounts"]["safe"] == 0);
  CHECK(st["accounts"]["critical"] == 0);
  CHECK(st["accounts"]["exhausted"] == 0);
  CHECK(st["workers"]["total"] == 3);
  CHECK(st["usable_hours_left"] == 0.0);
  CHECK(st["utilization"] == doctest::Approx(0.70));
}

TEST_CASE("a Colab account with 10 h used today has 2 h left, and says it is an estimate")
{
  Cli cli;
  cli.env["GPUCTL_NOW"] = "2026-11-30T11:00:00Z";
  cli.ok({"account", "add", "bob", "--provider", "colab"});
  cli.ok({"worker", "add", "c1", "--account", "bob"});
  // 6 h after the 00:00 UTC reset, 3 h, and 1 h of an open session: 10 h today.
  cli.ok({"session", "add", "c1", "--start", "2026-11-29T22:00:00Z", "--end", "2026-11-30T06:00:00Z"});
  cli.ok({"session", "add", "c1", "--start", "2026-11-30T07:00:00Z", "--end", "2026-11-30T10:00:00Z"});
  cli.ok({"session", "start", "c1", "--at", "2026-11-30T10:00:00Z"});
  json q = cli.ok({"quota", "bob", "--json"}).json();
  REQUIRE(q["windows"].size() == 1);
  CHECK(q["windows"][0]["kind"] == "daily");
  CHECK(q["windows"][0]["used_h"] == doctest::Approx(10.0));
  CHECK(q["windows"][0]["left_h"] == doctest::Approx(2.0));
  CHECK(q["left_h"] == doctest::Approx(2.0));
  CHECK(q["estimated"] == true);
  CHECK(q["status"] == "warning");
  REQUIRE(q["sessions"].size() == 1);
  // The open session: the budget runs out at 13:00, minus the 30 min margin.
  CHECK(q["sessions"][0]["deadline"] == "2026-11-30T12:30:00Z");
  CHECK(q["sessions"][0]["left_s"] == 5400);
  CHECK(q["sessions"][0]["warning"].is_null());
  CHECK(cli.ok({"quota"}).out.find("estimates") != std::string::npos);
}

TEST_CASE("deadline 19:30 from an 08:00 start, warnings from 18:30, exit 1 after 19:30")
{
  Cli cli;
  kaggle_fleet(cli);
  json s = cli.ok({"session", "start", "k1", "--json"}).json();
  CHECK(keys(s) == k_session_fields);
  CHECK(s["worker"] == "k1");
  CHECK(s["account"] == "alice");
  CHECK(s["started"] == "2026-11-30T08:00:00Z");
  CHECK(s["ended"].is_null());
  CHECK(s["duration_s"] == 0);
  CHECK(s["reason"].is_null());
  CHECK(s["deadline"] == "2026-11-30T19:30:00Z");

  json w = cli.ok({"worker", "show", "k1", "--json"}).json();
  CHECK(w["state"] == "online");
  CHECK(w["session"]["id"] == s["id"]);
  CHECK(w["session"]["started"] == "2026-11-30T08:00:00Z");
  CHECK(w["session"]["deadline"] == "2026-11-30T19:30:00Z");

  auto quiet = cli.run({"quota", "--warnings"}, {{"GPUCTL_NOW", "2026-11-30T18:29:00Z"}});
  CHECK(quiet.code == 0);
  CHECK(quiet.out.empty());
  auto one_hour = cli.run({"quota", "--warnings", "--json"}, {{"GPUCTL_NOW", "2026-11-30T18:30:00Z"}});
  CHECK(one_hour.code == 0);
  REQUIRE(one_hour.json().size() == 1);
  CHECK(one_hour.json()[0]["warning"] == "1h");
  CHECK(one_hour.json()[0]["worker"] == "k1");
  CHECK(one_hour.json()[0]["left_s"] == 3600);
  auto half = cli.run({"quota", "--warnings", "--json"}, {{"GPUCTL_NOW", "2026-11-30T19:05:00Z"}});
  CHECK(half.code == 0);
  CHECK(half.json()[0]["warning"] == "30m");
  // At the deadline itself it is not yet past.
  CHECK(cli.run({"quota", "--warnings"}, {{"GPUCTL_NOW", "2026-11-30T19:30:00Z"}}).code == 0);
  auto past = cli.run({"quota", "--warnings"}, {{"GPUCTL_NOW", "2026-11-30T19:31:00Z"}});
  CHECK(past.code == 1);
  CHECK(past.out.find("PAST DEADLINE") != std::string::npos);

  // Stopped: no more warnings.
  cli.run({"session", "stop", "k1", "--at", "19:00"}, {{"GPUCTL_NOW", "2026-11-30T19:31:00Z"}});
  CHECK(cli.run({"quota", "--warnings"}, {{"GPUCTL_NOW", "2026-11-30T19:31:00Z"}}).code == 0);
}

TEST_CASE("with only 5 h of weekly budget left at 08:00 the deadline is 12:30")
{
  Cli cli;
  kaggle_fleet(cli);
  cli.ok({"session", "add", "k2", "--start", "2026-11-28T00:00:00Z", "--end", "2026-11-28T12:00:00Z"});
  cli.ok({"session", "add", "k2", "--start", "2026-11-29T00:00:00Z", "--end", "2026-11-29T13:00:00Z"});
  json s = cli.ok({"session", "start", "k1", "--json"}).json();
  CHECK(s["deadline"] == "2026-11-30T12:30:00Z");
  json q = cli.ok({"quota", "alice", "--json"}).json();
  CHECK(q["sessions"][0]["deadline"] == "2026-11-30T12:30:00Z");
  CHECK(q["sessions"][0]["left_s"] == 4 * 3600 + 1800);
}

TEST_CASE("a third overlapping Kaggle session is refused with exit 4 and nothing written")
{
  Cli cli;
  kaggle_fleet(cli);
  cli.ok({"session", "start", "k1", "--at", "06:00"});
  cli.ok({"session", "start", "k2", "--at", "07:00"});
  const auto hash = [&] { return file_hash(cli.db_path()) ^ (file_hash(cli.db_path() + "-wal") << 1); };
  auto before = hash();
  auto r = cli.run({"session", "start", "k3"});
  CHECK(r.code == 4);
  CHECK(r.err.find("concurrent = 2") != std::string::npos);
  CHECK(r.err.find("session ") != std::string::npos);
  auto past = cli.run({"session", "add", "k3", "--start", "06:30", "--end", "07:30"});
  CHECK(past.code == 4);
  CHECK(hash() == before);
  // A session before the others began is fine (back to back too).
  cli.ok({"session", "add", "k3", "--start", "05:00", "--end", "06:00"});
  // One open session per worker.
  auto twice = cli.run({"session", "start", "k1"});
  CHECK(twice.code == 4);
  CHECK(twice.err.find("k1") != std::string::npos);
  // A removed worker with an open session would keep counting: refused.
  CHECK(cli.run({"worker", "rm", "k1"}).code == 4);
  // So would an account removed with --force: refused while a session is open.
  auto rm = cli.run({"account", "rm", "alice", "--force"});
  CHECK(rm.code == 4);
  CHECK(rm.err.find("open session") != std::string::npos);
}

TEST_CASE("session stop, list and bad input")
{
  Cli cli;
  kaggle_fleet(cli);
  cli.ok({"session", "start", "k1", "--at", "-2h"});
  json stopped = cli.ok({"session", "stop", "k1", "--reason", "done", "--json"}).json();
  CHECK(keys(stopped) == k_session_fields);
  CHECK(stopped["started"] == "2026-11-30T06:00:00Z");
  CHECK(stopped["ended"] == "2026-11-30T08:00:00Z");
  CHECK(stopped["duration_s"] == 7200);
  CHECK(stopped["reason"] == "done");
  CHECK(stopped["deadline"].is_null());
  CHECK(cli.ok({"worker", "show", "k1", "--json"}).json()["state"] == "offline");
  CHECK(cli.run({"session", "stop", "k1"}).code == 4);

  cli.ok({"session", "add", "k2", "--start", "2026-11-20T10:00:00Z", "--end", "2026-11-20T11:30:00Z"});
  cli.ok({"session", "start", "k3", "--at", "07:30"});
  json all = cli.ok({"session", "list", "--json"}).json();
  REQUIRE(all.size() == 3);
  CHECK(all[0]["worker"] == "k3"); // newest first
  CHECK(all[0]["ended"].is_null());
  CHECK(all[0]["duration_s"] == 1800);
  CHECK(all[0]["deadline"] == "2026-11-30T19:00:00Z");
  CHECK(all[2]["worker"] == "k2");
  CHECK(all[2]["reason"] == "recorded");
  CHECK(all[2]["duration_s"] == 5400);
  CHECK(cli.ok({"session", "list", "--since", "-7d", "--json"}).json().size() == 2);
  json only = cli.ok({"session", "list", "--worker", "k2", "--json"}).json();
  REQUIRE(only.size() == 1);
  CHECK(only[0]["account"] == "alice");
  CHECK(cli.ok({"session", "list"}).out.find("running") != std::string::npos);

  const auto before = file_hash(cli.db_path());
  for (std::vector<std::string> bad : {
           std::vector<std::string>{"session", "start", "k2", "--at", "+1h"},
           {"session", "start", "nobody"},
           {"session", "start", "k2", "--at", "soon"},
           {"session", "start", "k2", "--at", "@-1"},
           {"session", "stop", "k1", "--reason", "a\nb"},
           {"session", "add", "k2", "--start", "2026-11-29 10:00", "--end", "2026-11-29 10:00:60"},
           {"session", "add", "k2", "--start", "10:00", "--end", "09:00"},
           {"session", "add", "k2", "--start", "2026-11-30 07:00", "--end", "2026-11-30 09:00"},
           {"session", "stop", "k3", "--at", "07:00"},
           {"session", "list", "--since", "last week"},
           {"session", "list", "--worker", "ghost"},
           {"quota", "ghost"},
       }) {
    auto r = cli.run(bad);
    CAPTURE(r.err);
    CHECK(r.code == 2);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  }
  CHECK(file_hash(cli.db_path()) == before);
}

TEST_CASE("a disabled worker takes no new session, accounts without budget are safe with null share")
{
  Cli cli;
  cli.ok({"account", "add", "lab", "--provider", "ssh"});
  cli.ok({"worker", "add", "box", "--account", "lab", "--host", "me@box", "--price", "0.5"});
  cli.ok({"account", "add", "rentals", "--provider", "vast", "--max-usd-per-day", "2"});
  cli.ok({"worker", "add", "v1", "--account", "rentals", "--price", "0.8"});
  cli.ok({"worker", "disable", "box"});
  CHECK(cli.run({"session", "start", "box"}).code == 2);
  cli.ok({"worker", "enable", "box"});
  json s = cli.ok({"session", "start", "box", "--json"}).json();
  CHECK(s["deadline"].is_null());
  json q = cli.ok({"quota", "lab", "--json"}).json();
  CHECK(q["share"].is_null());
  CHECK(q["binding"].is_null());
  CHECK(q["status"] == "safe");
  CHECK(q["windows"].empty());
  CHECK(q["next_reset"].is_null());
  // vast: money accounted from the session's recorded $/h.
  cli.ok({"session", "add", "v1", "--start", "02:00", "--end", "04:00"});
  json v = cli.ok({"quota", "rentals", "--json"}).json();
  CHECK(v["spend"]["spent_usd"] == doctest::Approx(1.6));
  CHECK(v["spend"]["max_usd_per_day"] == 2.0);
  CHECK(v["status"] == "warning");
}

TEST_CASE("times are read and shown in the display zone")
{
  Cli cli;
  kaggle_fleet(cli);
  cli.env["TZ"] = "America/New_York";
  // 2026-11-30 02:00 in New York (EST) is 07:00Z.
  json s = cli.ok({"session", "start", "k1", "--at", "2026-11-30 02:00", "--json"}).json();
  CHECK(s["started"] == "2026-11-30T07:00:00Z");
  auto human = cli.ok({"session", "list"});
  CHECK(human.out.find("2026-11-30 02:00") != std::string::npos);
  auto utc = cli.ok({"--tz", "UTC", "session", "list"});
  CHECK(utc.out.find("2026-11-30 07:00") != std::string::npos);
  CHECK(cli.run({"session", "add", "k2", "--start", "2026-03-08 02:30", "--end", "2026-03-08 04:00"}).code == 2);
}
