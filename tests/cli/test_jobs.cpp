// SPDX-License-Identifier: MIT
// The job queue and the scheduler tick, end to end: the real binary against the fake Kaggle and
// vast.ai servers, time moved with GPUCTL_NOW and the fakes' clocks. Dispatch order and quota
// (acceptance 1), lost runs and crash safety (2), deadlines (3), --watch and signals (4).
#include "support/fake_server.hpp"
#include "support/support.hpp"

#include <doctest/doctest.h>

#include <csignal>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <random>
#include <set>
#include <thread>

using namespace gpuctl::test;
using nlohmann::json;

namespace {

constexpr long long k_start = 1796025600; // 2026-11-30T08:00:00Z, the fakes' start clock

std::string
at(long long epoch)
{
  return "@" + std::to_string(epoch);
}

/// Kaggle accounts on one fake, each with its own API token (user<name>), and a script file.
struct KaggleFleet {
  FakeServer fake{"kaggle"};
  Cli cli;
  long long now = k_start;
  std::map<std::string, std::string> tokens; ///< token → user

  KaggleFleet()
  {
    cli.env["GPUCTL_KAGGLE_URL"] = fake.url();
    cli.env["GPUCTL_TEST_SLEEP"] = "record";
    write_file(cli.dir() / "config.toml", "[net]\ntimeout = \"2s\"\nconnect_timeout = \"1s\"\n"
                                          "retries = 1\n");
    cli.env["GPUCTL_CONFIG"] = cli.dir() / "config.toml";
    write_file(cli.dir() / "train.py", "print('training')\n");
  }
  void account(const std::string& name, int workers, const std::vector<std::string>& extra = {})
  {
    std::string token = "T" + name;
    tokens[token] = "user" + name;
    fake.control("credentials", {{"tokens", tokens}});
    write_file(cli.dir() / ("tok" + name), token);
    ::chmod((cli.dir() / ("tok" + name)).c_str(), 0600);
    std::vector<std::string> args = {"account", "add", name, "--provider", "kaggle",
                                     "--credentials", cli.dir() / ("tok" + name), "--concurrent",
                                     "2", "--weekly-hours", "30"};
    args.insert(args.end(), extra.begin(), extra.end());
    cli.ok(args);
    for (int i = 1; i <= workers; ++i) {
      cli.ok({"worker", "add", name + std::to_string(i), "--account", name, "--gpu", "T4"});
    }
  }
  /// Records `hours` of past usage this week on the account's first worker.
  void used(const std::string& name, double hours)
  {
    long long end = k_start - 3600;
    long long start = end - static_cast<long long>(hours * 3600);
    cli.ok({"session", "add", name + "1", "--start", at(start), "--end", at(end)});
  }
  long long submit(const std::vector<std::string>& extra = {})
  {
    std::vector<std::string> args = {"job", "submit", "--script", cli.dir() / "train.py"};
    args.insert(args.end(), extra.begin(), extra.end());
    auto r = cli.ok(args);
    return std::stoll(r.out);
  }
  /// Moves both clocks forward.
  void advance(long long seconds)
  {
    now += seconds;
    cli.env["GPUCTL_NOW"] = at(now);
    fake.control("clock", {{"now", now}});
  }
  RunResult tick() { return cli.run({"schedule", "--once", "--json"}); }
  json job(long long id) { return cli.ok({"job", "show", std::to_string(id), "--json"}).json(); }
  /// SaveKernel requests in the fake's log, as (slug, body).
  std::vector<std::pair<std::string, json>> pushes()
  {
    std::vector<std::pair<std::string, json>> out;
    const json log = fake.log();
    for (const auto& e : log) {
      if (e["path"].get<std::string>().find("SaveKernel") != std::string::npos &&
          e["status"] == 200) {
        json b = json::parse(e["body"].get<std::string>());
        out.emplace_back(b["slug"].get<std::string>(), b);
      }
    }
    return out;
  }
  json events(const std::string& type)
  {
    return cli.ok({"events", "--type", type, "--json"}).json();
  }
};

std::string
owner_of(const std::string& slug)
{
  return slug.substr(0, slug.find('/'));
}

} // namespace

TEST_CASE("one tick pushes to the least-used safe accounts: A, A, B, B and never C")
{
  KaggleFleet f;
  f.cli.env["GPUCTL_NOW"] = at(k_start);
  for (const char* a : {"A", "B", "C"}) {
    f.account(a, 2);
  }
  f.used("A", 3);    // 10% of 30 h
  f.used("B", 15);   // 50%
  f.used("C", 22.5); // 75%: at warning, never dispatched to
  std::vector<long long> ids;
  for (int i = 0; i < 4; ++i) {
    ids.push_back(f.submit({"--timeout", "4h"}));
  }
  auto queued = f.job(ids[0]);
  CHECK(queued["state"] == "queued");
  CHECK(queued["why_queued"].get<std::string>().find("offline") != std::string::npos);

  f.fake.clear_log();
  auto r = f.tick();
  CAPTURE(r.err);
  REQUIRE(r.code == 0);
  auto pushes = f.pushes();
  REQUIRE(pushes.size() == 4);
  CHECK(owner_of(pushes[0].first) == "userA");
  CHECK(owner_of(pushes[1].first) == "userA");
  CHECK(owner_of(pushes[2].first) == "userB");
  CHECK(owner_of(pushes[3].first) == "userB");
  for (const auto& [slug, body] : pushes) {
    CHECK(body["sessionTimeoutSeconds"] == 4 * 3600);
    CHECK(body["enableGpu"] == true);
    CHECK(slug.find("/gpuctl-j") != std::string::npos);
  }
  // The tick's JSON report lists the four dispatches, in order.
  std::vector<std::string> dispatched_to;
  const json report = r.json(); // alive through the loop
  for (const auto& a : report["actions"]) {
    if (a["type"] == "job.dispatch") {
      dispatched_to.push_back(a["worker"].get<std::string>().substr(0, 1));
    }
  }
  CHECK(dispatched_to == std::vector<std::string>{"A", "A", "B", "B"});
  CHECK(f.job(ids[3])["worker"].get<std::string>().substr(0, 1) == "B");

  // The runs queue 30 s and run 600 s at the fake: two ticks later they are done.
  f.advance(120);
  REQUIRE(f.tick().code == 0);
  CHECK(f.job(ids[0])["state"] == "running");
  f.advance(600);
  REQUIRE(f.tick().code == 0);
  for (auto id : ids) {
    auto j = f.job(id);
    CHECK(j["state"] == "succeeded");
    CHECK(j["exit_code"] == 0);
    std::string dir = j["output_dir"];
    CHECK(read_file(dir + "/result.json") != "");
    CHECK(read_file(dir + "/model/weights.bin") != "");
    CHECK(read_file(dir + "/log").find("done") != std::string::npos);
    CHECK(f.cli.ok({"job", "logs", std::to_string(id)}).out.find("training") == std::string::npos);
  }
  CHECK(f.pushes().size() == 4); // nothing pushed twice
  // Their GPU time is in the ledger: 12 minutes each on A and B.
  auto quota = f.cli.ok({"quota", "--json"}).json();
  for (const auto& q : quota) {
    double used = q["windows"][0]["used_h"];
    if (q["account"] == "A") CHECK(used == doctest::Approx(3.4));
    if (q["account"] == "B") CHECK(used == doctest::Approx(15.4));
    if (q["account"] == "C") CHECK(used == doctest::Approx(22.5));
  }
  auto sessions = f.cli.ok({"session", "list", "--json"}).json();
  CHECK(std::count_if(sessions.begin(), sessions.end(),
                      [](const json& s) { return s["reason"] == "job-ended"; }) == 4);
  CHECK(f.events("job.succeeded").size() == 4);
}

TEST_CASE("job logs prints a running Kaggle run's log from the provider, then the whole log once it ended")
{
  KaggleFleet f;
  f.cli.env["GPUCTL_NOW"] = at(k_start);
  f.account("A", 1);
  auto id = f.submit({"--timeout", "1h"});
  auto queued = f.cli.ok({"job", "logs", std::to_string(id)});
  CHECK(queued.out.empty());
  CHECK(queued.err.find("queued") != std::string::npos);
  REQUIRE(f.tick().code == 0);
  f.advance(33); // running for 3 s at the fake: "starting" and the warning so far
  REQUIRE(f.tick().code == 0);
  auto live = f.cli.ok({"job", "logs", std::to_string(id)}).out;
  CHECK(live.find("starting") != std::string::npos);
  CHECK(live.find("done") == std::string::npos);
  f.advance(700);
  REQUIRE(f.tick().code == 0);
  REQUIRE(f.job(id)["state"] == "succeeded");
  auto all = f.cli.ok({"job", "logs", std::to_string(id)}).out;
  CHECK(all.rfind(live, 0) == 0); // the same text, continued
  CHECK(all.find("done") != std::string::npos);
  // --follow on an ended job prints it all and returns at once.
  CHECK(f.cli.ok({"job", "logs", "--follow", std::to_string(id)}).out == all);
}

TEST_CASE("a Kaggle worker with a session started by hand is busy: the job goes elsewhere or waits")
{
  KaggleFleet f;
  f.cli.env["GPUCTL_NOW"] = at(k_start);
  f.account("A", 2);
  REQUIRE(f.tick().code == 0); // A1, A2 online
  f.cli.ok({"session", "start", "A1"}); // the README's tour: a notebook run by hand
  auto first = f.submit({"--worker", "A1"});
  auto second = f.submit();
  auto r = f.tick();
  INFO(r.err);
  REQUIRE(r.code == 0); // used to fail every tick: UNIQUE constraint failed: sessions.worker_id
  CHECK(f.job(first)["state"] == "queued");
  CHECK(f.job(first)["why_queued"].get<std::string>().find("busy") != std::string::npos);
  CHECK(f.job(second)["worker"] == "A2");
  REQUIRE(f.pushes().size() == 1);
  f.cli.ok({"session", "stop", "A1"});
  REQUIRE(f.tick().code == 0);
  CHECK(f.job(first)["worker"] == "A1"); // free again: dispatched
  CHECK(f.pushes().size() == 2);
}

TEST_CASE("session stop and worker rm refuse while a job runs there: the run would go on unaccounted")
{
  KaggleFleet f;
  f.cli.env["GPUCTL_NOW"] = at(k_start);
  f.account("A", 1);
  REQUIRE(f.tick().code == 0);
  auto id = f.submit();
  REQUIRE(f.tick().code == 0);
  REQUIRE(f.job(id)["worker"] == "A1");
  auto before = file_hash(f.cli.db_path());
  auto stop = f.cli.run({"session", "stop", "A1"});
  CHECK(stop.code == 4);
  CHECK(stop.err == "gpuctl: error: worker 'A1' is running job " + std::to_string(id) +
                        " in this session; cancel the job with 'gpuctl job cancel " +
                        std::to_string(id) + "' instead\n");
  auto rm = f.cli.run({"worker", "rm", "A1"});
  CHECK(rm.code == 4);
  CHECK(rm.err.find("is running job " + std::to_string(id)) != std::string::npos);
  CHECK(file_hash(f.cli.db_path()) == before);
}

TEST_CASE("job show says why a job waits, and bad job input writes nothing")
{
  KaggleFleet f;
  f.cli.env["GPUCTL_NOW"] = at(k_start);
  f.account("A", 1);
  f.used("A", 25); // 83%: at warning
  REQUIRE(f.tick().code == 0); // A1 online
  auto id = f.submit();
  REQUIRE(f.tick().code == 0);
  auto j = f.job(id);
  CHECK(j["state"] == "queued");
  CHECK(j["why_queued"] == "1 worker at warning");
  CHECK(f.pushes().empty());

  auto before = file_hash(f.cli.db_path());
  for (const auto& bad : std::vector<std::vector<std::string>>{
           {"job", "submit", "--script", "/nonexistent.py"},
           {"job", "submit", "--command", "ls", "--provider", "kaggle"},
           {"job", "submit", "--command", "ls", "--timeout", "4x"},
           {"job", "submit", "--script", f.cli.dir() / "train.py", "--dataset", "noslash"},
           {"job", "show", "abc"},
           {"job", "show", "999"},
           {"job", "list", "--state", "done"},
           {"schedule", "--once", "--tick", "0s"},
           {"schedule", "--once", "--keep", "2"},
           {"schedule", "--watch", "--save"},
           {"job", "submit", "--command", "ls", "--dataset", "a/b"},
           {"job", "submit", "--command", "ls", "--priority", "0x10"},
           {"job", "submit", "--command", "ls", "--priority", "+5"},
           {"job", "submit", "--command", "ls", "--timeout", ""},
           {"job", "submit", "--command", "ls", "--name", ""},
           {"job", "submit", "--script", f.cli.dir().path(), "--provider", "kaggle"},
           {"job", "submit", "--worker", "A1", "--script", f.cli.dir() / "train.py", "--gpu", "A100"}}) {
    auto r = f.cli.run(bad);
    CAPTURE(bad);
    CAPTURE(r.err);
    CHECK(r.code == 2);
    CHECK(r.err.rfind("gpuctl: error: ", 0) == 0);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  }
  CHECK(file_hash(f.cli.db_path()) == before);
}

TEST_CASE("a run whose provider stops answering is lost, not re-run, until the provider says it is gone")
{
  KaggleFleet f;
  f.cli.env["GPUCTL_NOW"] = at(k_start);
  f.account("A", 1);
  f.account("B", 1);
  f.used("B", 6);
  auto id = f.submit({"--timeout", "4h"});
  REQUIRE(f.tick().code == 0);
  REQUIRE(f.job(id)["worker"] == "A1");
  REQUIRE(f.pushes().size() == 1);
  std::string slug = f.pushes()[0].first;

  // A's token stops working: A's calls fail from now on.
  auto without_a = f.tokens;
  without_a.erase("TA");
  f.fake.control("credentials", {{"tokens", without_a}});
  f.advance(60);
  f.tick();
  CHECK(f.job(id)["state"] == "dispatched"); // within heartbeat_timeout (3m): nothing decided
  f.advance(180);
  f.tick();
  auto w = f.cli.ok({"worker", "show", "A1", "--json"}).json();
  CHECK(w["state"] == "offline");
  CHECK(f.job(id)["state"] == "lost");
  CHECK(f.events("worker.offline").size() == 1);
  f.advance(600);
  f.tick();
  CHECK(f.job(id)["state"] == "lost"); // still not re-run: nobody confirmed the run gone
  CHECK(f.pushes().size() == 1);

  // A answers again and the run is gone (its owner deleted it): re-queued and run on B.
  f.fake.control("credentials", {{"tokens", f.tokens}});
  f.fake.control("delete_kernel", {{"ref", slug}});
  REQUIRE(f.tick().code == 0);
  auto j = f.job(id);
  CHECK(j["attempts"] == 2);
  CHECK(j["worker"] == "B1");
  CHECK(f.pushes().size() == 2);
  CHECK(owner_of(f.pushes()[1].first) == "userB");
  CHECK(f.events("job.requeued").size() == 1);
  f.advance(700);
  REQUIRE(f.tick().code == 0);
  CHECK(f.job(id)["state"] == "succeeded");
}

TEST_CASE("schedule --watch killed at each dispatch failpoint neither loses a job nor pushes it twice")
{
  for (const char* point : {"dispatch-before-call", "dispatch-after-call"}) {
    CAPTURE(std::string(point));
    KaggleFleet f;
    f.cli.env["GPUCTL_NOW"] = at(k_start);
    f.account("A", 2);
    auto id1 = f.submit({"--timeout", "2h"});
    auto id2 = f.submit({"--timeout", "2h"});
    // --watch runs its first tick at once and dies at the failpoint inside it.
    auto killed = f.cli.run({"schedule", "--watch", "--tick", "1s"}, {{"GPUCTL_FAILPOINT", point}});
    CHECK(killed.code == 128 + 9);
    CHECK(f.pushes().size() == (std::string(point) == "dispatch-after-call" ? 1u : 0u));
    REQUIRE(f.tick().code == 0);
    REQUIRE(f.tick().code == 0);
    auto pushes = f.pushes();
    CHECK(pushes.size() == 2);
    std::set<std::string> slugs;
    for (const auto& p : pushes) {
      slugs.insert(p.first);
    }
    CHECK(slugs.size() == pushes.size());
    f.advance(700);
    REQUIRE(f.tick().code == 0);
    CHECK(f.job(id1)["state"] == "succeeded");
    CHECK(f.job(id2)["state"] == "succeeded");
    CHECK(f.events("job.succeeded").size() == 2);
  }
}

TEST_CASE("schedule --watch killed with SIGKILL at random points ends every job exactly once")
{
  KaggleFleet f;
  f.cli.env["GPUCTL_NOW"] = at(k_start);
  f.account("A", 2);
  f.account("B", 2);
  f.account("C", 2);
  std::vector<long long> ids;
  for (int i = 0; i < 9; ++i) {
    ids.push_back(f.submit({"--timeout", "1h"}));
  }
  std::mt19937 rng(20261130);
  std::uniform_int_distribution<int> delay_us(0, 60000);
  int killed = 0;
  for (int run = 0; run < 60; ++run) {
    if (run % 12 == 11) {
      f.advance(400); // runs move on at the fake
    }
    int pid = spawn_gpuctl({"schedule", "--watch", "--tick", "1s", "--quiet"}, f.cli.env);
    std::this_thread::sleep_for(std::chrono::microseconds(delay_us(rng)));
    if (::kill(pid, SIGKILL) == 0) {
      ++killed;
    }
    wait_exit(pid);
  }
  CHECK(killed >= 50);
  // Then ticks without a kill until every job has ended.
  for (int i = 0; i < 6; ++i) {
    f.advance(700);
    auto r = f.tick();
    CAPTURE(r.err);
    CHECK(r.code == 0);
  }
  std::map<std::string, int> by_slug;
  for (const auto& p : f.pushes()) {
    by_slug[p.first] += 1;
  }
  for (const auto& [slug, n] : by_slug) {
    CAPTURE(slug);
    CHECK(n == 1); // no dispatch_key pushed twice
  }
  auto ended = f.events("job.succeeded");
  std::map<long long, int> succeeded;
  for (const auto& e : ended) {
    succeeded[e["job"].get<long long>()] += 1;
  }
  for (auto id : ids) {
    CAPTURE(id);
    CHECK(f.job(id)["state"] == "succeeded");
    CHECK(succeeded[id] == 1);
  }
  CHECK(f.cli.ok({"session", "list", "--json"}).json().size() == ids.size());
}

TEST_CASE("a Kaggle push at 08:00 carries a session timeout that ends it by 19:30")
{
  KaggleFleet f;
  f.cli.env["GPUCTL_NOW"] = at(k_start);
  f.account("A", 1, {"--session-max", "12h", "--shutdown-margin", "30m"});
  f.submit(); // no --timeout: the run limit is the session's deadline
  REQUIRE(f.tick().code == 0);
  REQUIRE(f.pushes().size() == 1);
  CHECK(f.pushes()[0].second["sessionTimeoutSeconds"] == 11 * 3600 + 30 * 60);
}

TEST_CASE("a vast session started at 08:00 is stopped by the first tick at or after 19:30, with warnings before")
{
  FakeServer fake{"vast"};
  Cli cli;
  cli.env["GPUCTL_VAST_URL"] = fake.url();
  cli.env["VAST_API_KEY"] = "TESTKEY";
  cli.env["GPUCTL_TEST_SLEEP"] = "record";
  cli.env["GPUCTL_NOW"] = at(k_start);
  write_file(cli.dir() / "config.toml", "[providers.vast]\npace = \"0s\"\n");
  cli.env["GPUCTL_CONFIG"] = cli.dir() / "config.toml";
  cli.ok({"account", "add", "lab", "--provider", "vast", "--session-max", "12h",
          "--shutdown-margin", "30m"});
  auto offer = cli.ok({"offers", "search", "--gpu", "RTX_4090", "--limit", "1", "--json"}).json();
  cli.ok({"offers", "rent", std::to_string(offer.at(0)["id"].get<long long>()), "--name", "v1",
          "--account", "lab", "--image", "pytorch/pytorch"});
  auto tick_at = [&](long long t) {
    cli.env["GPUCTL_NOW"] = at(t);
    fake.control("clock", {{"now", t}});
    auto r = cli.run({"schedule", "--once", "--json"});
    CAPTURE(r.err);
    CHECK(r.code == 0);
    std::vector<std::string> types;
    const json report = r.json(); // alive through the loop
    for (const auto& a : report["actions"]) {
      types.push_back(a["type"].get<std::string>() + ":" + a["reason"].get<std::string>());
    }
    return types;
  };
  auto has = [](const std::vector<std::string>& v, const std::string& prefix) {
    return std::any_of(v.begin(), v.end(), [&](const std::string& s) { return s.rfind(prefix, 0) == 0; });
  };
  CHECK_FALSE(has(tick_at(k_start + 10 * 3600), "deadline")); // 18:00
  auto t1830 = tick_at(k_start + 10 * 3600 + 1800);
  CHECK(has(t1830, "deadline.warning:1h"));
  CHECK_FALSE(has(tick_at(k_start + 10 * 3600 + 2400), "deadline")); // given once
  CHECK(has(tick_at(k_start + 11 * 3600), "deadline.warning:30m"));     // 19:00
  CHECK_FALSE(has(tick_at(k_start + 11 * 3600 + 1740), "deadline.stop")); // 19:29
  auto t1930 = tick_at(k_start + 11 * 3600 + 1800 + 20);                  // 19:30:20
  CHECK(has(t1930, "deadline.stop:auto-shutdown"));
  auto sessions = cli.ok({"session", "list", "--json"}).json();
  REQUIRE(sessions.size() == 1);
  CHECK(sessions[0]["reason"] == "auto-shutdown");
  CHECK(sessions[0]["ended"] == "2026-11-30T19:30:20Z");
  CHECK(cli.ok({"events", "--type", "deadline.warning", "--json"}).json().size() == 2);
  CHECK(cli.ok({"events", "--type", "deadline.stop", "--json"}).json().size() == 1);
  const json st = fake.state();
  CHECK(st["instances"][0]["actual_status"] == "stopped");
}

TEST_CASE("schedule --watch exits 0 on SIGTERM even mid back-off, and a second scheduler is refused")
{
  KaggleFleet f;
  f.cli.env.erase("GPUCTL_TEST_SLEEP"); // real waits: the signal must cut them short
  write_file(f.cli.dir() / "config.toml",
             "[net]\ntimeout = \"2s\"\nconnect_timeout = \"1s\"\nretries = 6\n");
  f.cli.env["GPUCTL_NOW"] = at(k_start);
  f.account("A", 1);
  auto id = f.submit({"--timeout", "1h"});
  f.cli.ok({"schedule", "--once"}); // A1 online, the job pushed
  auto id2 = f.submit({"--timeout", "1h"});
  (void)id2;
  // Every status and listing call now answers 503: the watch loop backs off on its first call.
  f.fake.fault("POST /v1/kernels.KernelsApiService/*", "status", -1, {{"status", 503}});
  auto start = std::chrono::steady_clock::now();
  int pid = spawn_gpuctl({"schedule", "--watch", "--tick", "30s"}, f.cli.env);
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  auto second = f.cli.run({"schedule", "--once"});
  CHECK(second.code == 4);
  CHECK(second.err.find("another scheduler") != std::string::npos);
  ::kill(pid, SIGTERM);
  int code = wait_exit(pid);
  auto took = std::chrono::steady_clock::now() - start;
  CHECK(code == 0);
  CHECK(took < std::chrono::seconds(6));
  // Nothing dispatched went unrecorded: the first job is still on A1, the second queued or
  // dispatched with its key recorded.
  auto j = f.job(id);
  CHECK(j["worker"] == "A1");
  CHECK(j["attempts"] == 1);

  // A signal while --watch waits between ticks also ends it with 0.
  f.fake.control("reset");
  f.fake.control("credentials", {{"tokens", f.tokens}});
  int idle = spawn_gpuctl({"schedule", "--watch", "--tick", "30s", "--quiet"}, f.cli.env);
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  ::kill(idle, SIGTERM);
  CHECK(wait_exit(idle) == 0);
}

namespace {

/// A vast account `lab` (12 h cap, 30 min margin) with one rented instance `v1`, running.
struct VastFleet {
  FakeServer fake{"vast"};
  Cli cli;
  VastFleet()
  {
    cli.env["GPUCTL_VAST_URL"] = fake.url();
    cli.env["VAST_API_KEY"] = "TESTKEY";
    cli.env["GPUCTL_TEST_SLEEP"] = "record";
    cli.env["GPUCTL_NOW"] = at(k_start);
    write_file(cli.dir() / "config.toml", "[providers.vast]\npace = \"0s\"\n");
    cli.env["GPUCTL_CONFIG"] = cli.dir() / "config.toml";
    cli.ok({"account", "add", "lab", "--provider", "vast", "--session-max", "12h",
            "--shutdown-margin", "30m"});
    auto offer = cli.ok({"offers", "search", "--gpu", "RTX_4090", "--limit", "1", "--json"}).json();
    cli.ok({"offers", "rent", std::to_string(offer.at(0)["id"].get<long long>()), "--name", "v1",
            "--account", "lab", "--image", "pytorch/pytorch"});
  }
  void set_now(long long t)
  {
    cli.env["GPUCTL_NOW"] = at(t);
    fake.control("clock", {{"now", t}});
  }
  /// PUT calls that changed the instance's state, as "running"/"stopped".
  std::vector<std::string> state_calls()
  {
    std::vector<std::string> out;
    const json log = fake.log();
    for (const auto& e : log) {
      if (e["method"] == "PUT" && e["path"].get<std::string>().rfind("/api/v0/instances/", 0) == 0) {
        json b = json::parse(e["body"].get<std::string>(), nullptr, false);
        if (b.is_object() && b.contains("state")) {
          out.push_back(b["state"]);
        }
      }
    }
    return out;
  }
  std::string instance_status()
  {
    const json st = fake.state();
    return st["instances"][0].value("actual_status", json("")).is_string()
               ? st["instances"][0]["actual_status"].get<std::string>()
               : "";
  }
};

} // namespace

TEST_CASE("a tick killed between its deadline stop call and the commit: the rerun records auto-shutdown, no second stop")
{
  VastFleet f;
  f.set_now(k_start + 11 * 3600 + 1800); // 19:30
  auto killed = f.cli.run({"schedule", "--watch", "--tick", "1s"},
                          {{"GPUCTL_FAILPOINT", "stop-after-call"}});
  CHECK(killed.code == 128 + 9);
  CHECK(f.state_calls() == std::vector<std::string>{"stopped"});
  CHECK(f.instance_status() == "stopped");
  CHECK(f.cli.ok({"session", "list", "--json"}).json()[0]["ended"].is_null()); // not recorded yet
  f.set_now(k_start + 11 * 3600 + 1860);
  auto r = f.cli.run({"schedule", "--once"});
  CAPTURE(r.err);
  CHECK(r.code == 0);
  CHECK(f.state_calls() == std::vector<std::string>{"stopped"}); // never sent twice
  auto s = f.cli.ok({"session", "list", "--json"}).json();
  REQUIRE(s.size() == 1);
  CHECK(s[0]["reason"] == "auto-shutdown");
  CHECK(s[0]["ended"] == "2026-11-30T19:30:00Z"); // when the stop went out
  CHECK(f.cli.ok({"worker", "show", "v1", "--json"}).json()["state"] == "offline");
}

TEST_CASE("a tick killed between its plan start call and the commit: the rerun records the start, no second start")
{
  VastFleet f;
  f.cli.ok({"worker", "stop", "v1"});
  f.cli.ok({"schedule", "--strategy", "burst", "--days", "1", "--save"});
  f.fake.clear_log();
  f.set_now(k_start + 600);
  auto killed = f.cli.run({"schedule", "--watch", "--tick", "1s"},
                          {{"GPUCTL_FAILPOINT", "start-after-call"}});
  CHECK(killed.code == 128 + 9);
  CHECK(f.state_calls() == std::vector<std::string>{"running"});
  f.set_now(k_start + 660);
  auto r = f.cli.run({"schedule", "--once", "--json"});
  CAPTURE(r.err);
  CHECK(r.code == 0);
  CHECK(f.state_calls() == std::vector<std::string>{"running"});
  auto s = f.cli.ok({"session", "list", "--json"}).json();
  REQUIRE(s.size() == 2);
  CHECK(s[0]["ended"].is_null()); // the new session is open
  std::string state = f.cli.ok({"worker", "show", "v1", "--json"}).json()["state"];
  CHECK((state == "starting" || state == "online"));
}
