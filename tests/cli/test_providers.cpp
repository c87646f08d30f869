// SPDX-License-Identifier: MIT
// The real binary against the fake vast.ai and Kaggle servers: offers search|rent, worker
// sync|start|stop|destroy, rm guards, account check, quota --sync, exit codes and messages,
// crash safety at failpoints, and that no secret reaches any output.
#include "support/fake_server.hpp"
#include "support/support.hpp"

#include <doctest/doctest.h>
#include <SQLiteCpp/SQLiteCpp.h>
#include <csignal>
#include <unistd.h>
#include <sys/stat.h>

#include <algorithm>

using namespace gpuctl::test;
using nlohmann::json;

namespace {

constexpr const char* k_key = "TESTKEY";

/// A user with a vast account `lab` pointed at a fresh fake (pace 0, short timeouts).
struct VastUser {
  FakeServer fake{"vast"};
  Cli cli;
  VastUser()
  {
    cli.env["GPUCTL_VAST_URL"] = fake.url();
    cli.env["VAST_API_KEY"] = k_key;
    cli.env["GPUCTL_TEST_SLEEP"] = "record";
    write_file(cli.dir() / "config.toml",
               "[providers.vast]\npace = \"0s\"\n[net]\ntimeout = \"1s\"\nconnect_timeout = \"1s\"\n");
    cli.env["GPUCTL_CONFIG"] = cli.dir() / "config.toml";
    cli.ok({"account", "add", "lab", "--provider", "vast"});
  }
  /// The cheapest RTX 4090 offer id.
  std::string offer()
  {
    auto r = cli.ok({"offers", "search", "--gpu", "RTX_4090", "--limit", "1", "--json"});
    return std::to_string(r.json().at(0)["id"].get<long long>());
  }
  std::vector<std::string> rent_args(const std::string& offer, const std::string& name = "v1")
  {
    return {"offers", "rent", offer, "--name", name, "--account", "lab", "--image", "pytorch/pytorch",
            "--disk", "32", "--env", "HF_HOME=/data"};
  }
  int instances_labelled(const std::string& label)
  {
    int n = 0;
    const json st = fake.state(); // keep the temporary alive through the loop
    for (const auto& i : st["instances"]) {
      n += i.value("label", json()) == label;
    }
    return n;
  }
};

void
no_secret(const RunResult& r, const std::string& secret = k_key)
{
  CHECK(r.out.find(secret) == std::string::npos);
  CHECK(r.err.find(secret) == std::string::npos);
}

/// stderr holds exactly one line: the error.
void
one_error_line(const RunResult& r, const std::string& starts)
{
  CAPTURE(r.err);
  // Lines of the test build's recorded sleeps ("gpuctl: test: sleep N ms") come first.
  std::string err = r.err;
  while (err.rfind("gpuctl: test: ", 0) == 0) {
    err.erase(0, err.find('\n') + 1);
  }
  CAPTURE(err);
  CAPTURE(starts);
  CHECK(err.rfind("gpuctl: error: " + starts, 0) == 0);
  CHECK(std::count(err.begin(), err.end(), '\n') == 1);
}

} // namespace

TEST_CASE("offers search prints DESIGN §10 offers, cheapest first, and sends only the Bearer key")
{
  VastUser u;
  auto r = u.cli.ok({"offers", "search", "--gpu", "RTX_4090", "--region", "us,ca", "--max-price",
                     "0.5", "--order", "price", "--limit", "3", "--json"});
  auto offers = r.json();
  REQUIRE(offers.is_array());
  REQUIRE_FALSE(offers.empty());
  for (const auto& o : offers) {
    for (const char* f : {"id", "gpu", "num_gpus", "gpu_ram_gb", "price_usd_per_hour", "reliability",
                          "region", "disk_gb", "inet_down_mbps", "cuda"}) {
      CHECK(o.contains(f));
    }
    CHECK(o["gpu"] == "RTX 4090");
    CHECK(o["price_usd_per_hour"].get<double>() <= 0.5);
  }
  auto log = u.fake.log();
  const auto& e = log.back();
  CHECK(e["method"] == "POST");
  CHECK(e["path"] == "/api/v0/bundles/");
  CHECK(e["query"] == "");
  CHECK(e["headers"]["Authorization"] == "Bearer [REDACTED]");
  CHECK(json::parse(e["body"].get<std::string>())["geolocation"] == json{{"in", {"US", "CA"}}});
  no_secret(r);
}

TEST_CASE("offers search: bad input is one line, exit 2, and no request")
{
  VastUser u;
  u.fake.clear_log();
  for (auto args : std::vector<std::vector<std::string>>{
           {"offers", "search", "--order", "cheapest"},
           {"offers", "search", "--region", "USA"},
           {"offers", "search", "--max-price", "-1"},
           {"offers", "search", "--min-reliability", "2"},
           {"offers", "search", "--limit", "0"}}) {
    auto r = u.cli.run(args);
    CAPTURE(args.back());
    CHECK(r.code == 2);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  }
  CHECK(u.fake.log().empty());
}

TEST_CASE("offers rent registers the worker with its full spec and opens its session")
{
  VastUser u;
  auto offer = u.offer();
  auto r = u.cli.ok(u.rent_args(offer));
  CHECK(r.err.find("rented offer " + offer + " as worker v1") != std::string::npos);
  auto rerun = u.rent_args(offer);
  rerun.push_back("--json");
  auto shown = u.cli.ok(rerun).json();
  CHECK(shown["session"].is_object()); // the rerun prints the worker with its open session
  auto other = u.cli.run({"offers", "rent", offer, "--name", "v1", "--account", "lab", "--image",
                          "pytorch/pytorch"}); // same offer, other disk and env
  CHECK(other.code == 4);
  one_error_line(other, "worker 'v1' already rents offer");
  auto w = u.cli.ok({"worker", "show", "v1", "--json"}).json();
  CHECK(w["provider"] == "vast");
  CHECK(w["gpu"] == "RTX 4090");
  CHECK(w["state"] == "starting");
  CHECK(w["instance_id"].is_string());
  CHECK(w["price_usd_per_hour"].get<double>() > 0);
  REQUIRE(w["session"].is_object());
  CHECK(u.instances_labelled("gpuctl:1:1") == 1);
  // The create request, field by field (specs/vast-api.md §3.1).
  json create;
  for (const auto& e : u.fake.log()) {
    if (e["method"] == "PUT") {
      create = e;
    }
  }
  CHECK(create["path"] == "/api/v0/asks/" + offer + "/");
  auto body = json::parse(create["body"].get<std::string>());
  CHECK(body["image"] == "pytorch/pytorch");
  CHECK(body["disk"] == 32.0);
  CHECK(body["env"] == json{{"HF_HOME", "/data"}});
  CHECK(body["label"] == "gpuctl:1:1");
  CHECK(body["cancel_unavail"] == true);
  // A rerun is harmless; the same name for another offer is a conflict.
  auto again = u.cli.run(u.rent_args(offer));
  CHECK(again.code == 0);
  CHECK(again.err.find("already rents instance") != std::string::npos);
  CHECK(u.instances_labelled("gpuctl:1:1") == 1);
  CHECK(u.cli.run(u.rent_args(offer == "12345678" ? "12345679" : "12345678")).code == 4);
  no_secret(r);
}

TEST_CASE("offers rent killed right after the create call: the rerun finds the instance, rents nothing more")
{
  for (const char* point : {"rent-after-create", "rent-before-create"}) {
    CAPTURE(std::string(point));
    VastUser u;
    auto offer = u.offer();
    auto killed = u.cli.run(u.rent_args(offer), {{"GPUCTL_FAILPOINT", point}});
    CHECK(killed.code == 128 + 9);
    CHECK(u.instances_labelled("gpuctl:1:1") == (std::string(point) == "rent-after-create" ? 1 : 0));
    auto rerun = u.cli.ok(u.rent_args(offer));
    CHECK(u.instances_labelled("gpuctl:1:1") == 1);
    CHECK(u.fake.state()["instances"].size() == 1);
    auto workers = u.cli.ok({"worker", "list", "--json"}).json();
    REQUIRE(workers.size() == 1);
    CHECK(workers[0]["name"] == "v1");
    CHECK(workers[0]["instance_id"] == std::to_string(u.fake.state()["instances"][0]["id"].get<long long>()));
    CHECK(u.cli.ok({"session", "list", "--json"}).json().size() == 1);
  }
}

TEST_CASE("a rent whose create times out looks for its label before creating again")
{
  VastUser u;
  auto offer = u.offer();
  // The fake performs the create but the answer never arrives (connection closed).
  u.fake.fault("PUT /api/v0/asks/*/", "after", 1);
  auto r = u.cli.run(u.rent_args(offer));
  CHECK(r.code == 0); // found by its label in the same run
  CHECK(u.instances_labelled("gpuctl:1:1") == 1);
  int creates = 0;
  for (const auto& e : u.fake.log()) {
    creates += e["method"] == "PUT";
  }
  CHECK(creates == 1);
}

TEST_CASE("offers rent refuses what max_usd_per_day or --max-price would not allow, writing nothing")
{
  VastUser u;
  u.cli.ok({"account", "set", "lab", "--max-usd-per-day", "0.5"});
  auto offer = u.offer();
  auto r = u.cli.run(u.rent_args(offer));
  CHECK(r.code == 4);
  one_error_line(r, "renting offer");
  CHECK(r.err.find("max_usd_per_day") != std::string::npos);
  auto r2 = u.cli.run({"offers", "rent", offer, "--name", "v2", "--account", "lab", "--image", "x",
                       "--max-price", "0.01"});
  CHECK(r2.code == 4);
  CHECK(u.fake.state()["instances"].empty());
  CHECK(u.cli.ok({"worker", "list", "--json"}).json().empty());
}

TEST_CASE("offers rent: bad input is one line, exit 2, before any call to vast.ai")
{
  VastUser u;
  auto offer = u.offer();
  u.fake.clear_log();
  for (auto args : std::vector<std::vector<std::string>>{
           {"offers", "rent", offer, "--name", "v2", "--account", "lab", "--image", ""},
           {"offers", "rent", offer, "--name", "v2", "--account", "lab", "--image", "x", "--disk", "7"},
           {"offers", "rent", offer, "--name", "v2", "--account", "lab", "--image", "x", "--env", "FOO"},
           {"offers", "rent", offer, "--name", "", "--account", "lab", "--image", "x"},
           {"offers", "rent", "0x10", "--name", "v2", "--account", "lab", "--image", "x"}}) {
    auto r = u.cli.run(args);
    CAPTURE(args);
    CAPTURE(r.err);
    CHECK(r.code == 2);
    CHECK(r.err.rfind("gpuctl: error: ", 0) == 0);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  }
  CHECK(u.fake.log().empty());
  CHECK(u.fake.state()["instances"].empty());
  CHECK(u.cli.ok({"worker", "list", "--json"}).json().empty());
}

TEST_CASE("worker sync reports instances gpuctl did not create and adopts them with --adopt")
{
  VastUser u;
  u.fake.control("instances", {{"count", 2}, {"label", "outside"}});
  auto r = u.cli.ok({"worker", "sync", "--json"});
  auto rep = r.json();
  CHECK(rep["accounts"][0]["instances"] == 2);
  CHECK(rep["unmanaged"].size() == 2);
  CHECK(rep["unmanaged"][0]["adopted_as"].is_null());
  CHECK(u.cli.ok({"worker", "list", "--json"}).json().empty());
  auto a = u.cli.ok({"worker", "sync", "--adopt", "--json"}).json();
  REQUIRE(a["unmanaged"].size() == 2);
  CHECK(a["unmanaged"][0]["adopted_as"] == "outside"); // named after a free, valid label
  CHECK(a["unmanaged"][1]["adopted_as"].get<std::string>().rfind("vast-", 0) == 0);
  auto workers = u.cli.ok({"worker", "list", "--json"}).json();
  CHECK(workers.size() == 2);
  CHECK(workers[0]["state"] == "online");
  auto third = u.cli.ok({"worker", "sync", "--json"}).json();
  CHECK(third["unmanaged"].empty());
  CHECK(third["updated"].size() == 2);
}

TEST_CASE("a failed listing page marks nothing vanished, a complete listing confirmed by show does")
{
  VastUser u;
  u.cli.ok(u.rent_args(u.offer()));
  u.fake.control("instances", {{"count", 30}, {"label", "bulk"}}); // two pages
  auto id = u.cli.ok({"worker", "show", "v1", "--json"}).json()["instance_id"].get<std::string>();
  // gpuctl dies right after the DELETE: the instance is gone but the state file does not know.
  auto del = u.cli.run({"worker", "destroy", "v1", "--yes"}, {{"GPUCTL_FAILPOINT", "destroy-after-call"}});
  CHECK(del.code == 128 + 9);
  CHECK(u.cli.ok({"worker", "show", "v1", "--json"}).json()["state"] != "deleted");
  // Page 1 answers, page 2 fails on every attempt: nothing may be decided from page 1 alone.
  u.fake.fault("GET /api/v1/instances/", "status", 5, {{"status", 500}, {"skip", 1}}); // 5 = 1 + [net] retries
  auto failed = u.cli.run({"worker", "sync", "--json"});
  CHECK(failed.code == 3);
  auto rep = failed.json();
  CHECK(rep["vanished"].empty());
  CHECK(rep["updated"].empty());
  CHECK(rep["accounts"][0]["error"].get<std::string>().rfind("vast.ai list instances: HTTP 500", 0) == 0);
  CHECK(failed.err.find("nothing was decided") != std::string::npos);
  CHECK(u.cli.ok({"worker", "show", "v1", "--json"}).json()["state"] != "deleted");
  // The next complete listing misses it; one show call confirms; only then is it deleted.
  u.fake.clear_log();
  auto ok = u.cli.ok({"worker", "sync", "--json"}).json();
  CHECK(ok["vanished"] == json::array({"v1"}));
  CHECK(ok["accounts"][0]["pages"] == 2);
  int shows = 0;
  for (const auto& e : u.fake.log()) {
    shows += e["path"] == "/api/v0/instances/" + id + "/";
  }
  CHECK(shows == 1);
  auto w = u.cli.ok({"worker", "show", "v1", "--json"}).json();
  CHECK(w["state"] == "deleted");
  CHECK(w["session"].is_null());
}

TEST_CASE("worker stop, start, destroy drive the instance, rm refuses while it may bill")
{
  VastUser u;
  u.cli.ok(u.rent_args(u.offer()));
  auto stop = u.cli.ok({"worker", "stop", "v1", "--json"}).json();
  CHECK(stop["state"] == "offline");
  CHECK(stop["session"].is_null());
  auto start = u.cli.ok({"worker", "start", "v1", "--json"}).json();
  CHECK(start["state"] == "starting");
  CHECK(start["session"].is_object());
  auto rm = u.cli.run({"worker", "rm", "v1"});
  CHECK(rm.code == 4);
  one_error_line(rm, "worker 'v1' holds vast.ai instance");
  CHECK(u.cli.run({"account", "rm", "lab"}).code == 4);
  auto destroy_no_tty = u.cli.run({"worker", "destroy", "v1"});
  CHECK(destroy_no_tty.code == 2);
  CHECK(destroy_no_tty.err.find("--yes") != std::string::npos);
  auto d = u.cli.ok({"worker", "destroy", "v1", "--yes", "--json"}).json();
  CHECK(d["state"] == "deleted");
  CHECK(u.fake.state()["instances"].empty());
  u.cli.ok({"worker", "rm", "v1"});
  CHECK(u.cli.run({"worker", "start", "colab1"}).code == 2);
}

TEST_CASE("worker rm --force forgets a live instance and says what is left running")
{
  VastUser u;
  u.cli.ok(u.rent_args(u.offer()));
  auto r = u.cli.ok({"worker", "rm", "v1", "--force"});
  CHECK(r.err.find("warning: vast.ai instance 4240 is still running (and billing)") != std::string::npos);
  CHECK(u.fake.state()["instances"].size() == 1);
  CHECK(u.cli.ok({"session", "list", "--json"}).json()[0]["reason"] == "removed");
  u.cli.ok(u.rent_args(u.offer(), "v2"));
  auto acc = u.cli.ok({"account", "rm", "lab", "--force", "--json"});
  CHECK(acc.json()["left_running"] == json::array({"vast.ai instance 4241 (worker v2)"}));
  CHECK(acc.err.find("warning: vast.ai instance 4241 (worker v2) is still running") != std::string::npos);
  // Options that take values stop at one value each: the offer id after --env is not eaten.
  auto order = u.cli.run({"offers", "rent", "--name", "v3", "--account", "nobody", "--image", "i",
                          "--env", "A=1", "12345678"});
  CHECK(order.code == 2);
  CHECK(order.err.find("no account named 'nobody'") != std::string::npos);
}

TEST_CASE("network faults on the command line: recorded waits, bounded retries, exit 3, one line, no key")
{
  VastUser u;
  u.fake.fault("POST /api/v0/bundles/", "status", 1, {{"status", 429}, {"retry_after", "2"}});
  auto r = u.cli.ok({"offers", "search", "--json"});
  CHECK(r.err.find("gpuctl: test: sleep 2000 ms") != std::string::npos);
  u.fake.fault("GET /api/v1/instances/", "status", 1, {{"status", 429}});
  r = u.cli.ok({"worker", "sync"});
  CHECK(r.err.find("gpuctl: test: sleep ") != std::string::npos);
  u.fake.fault("POST /api/v0/bundles/", "malformed", 5); // 1 + [net] retries
  r = u.cli.run({"offers", "search"});
  CHECK(r.code == 3);
  one_error_line(r, "vast.ai search offers: the answer is not valid JSON (5 attempts)");
  u.fake.fault("POST /api/v0/bundles/", "reset", 5);
  r = u.cli.run({"offers", "search"});
  CHECK(r.code == 3);
  one_error_line(r, "vast.ai search offers: connection closed");
  r = u.cli.run({"offers", "search"}, {{"VAST_API_KEY", "WRONGKEY123"}});
  CHECK(r.code == 3);
  one_error_line(r, "vast.ai search offers: the API key was refused (HTTP 401");
  no_secret(r, "WRONGKEY123");
  r = u.cli.run({"-v", "worker", "sync"});
  CHECK(r.err.find("gpuctl: http: GET /api/v1/instances/") != std::string::npos);
  no_secret(r);
  r = u.cli.run({"offers", "search"}, {{"GPUCTL_CURL_LIBRARY", "libcurl-missing.so.9"}});
  CHECK(r.code == 3);
  one_error_line(r, "cannot load libcurl-missing.so.9 (install the Debian package libcurl4)");
  CHECK(u.cli.run({"worker", "list"}, {{"GPUCTL_CURL_LIBRARY", "libcurl-missing.so.9"}}).code == 0); // offline: no libcurl
  r = u.cli.run({"offers", "search"}, {{"GPUCTL_VAST_URL", "http://127.0.0.1:1"}});
  CHECK(r.code == 3);
  one_error_line(r, "vast.ai search offers: cannot reach 127.0.0.1:1");
}

TEST_CASE("two vast accounts without credentials files cannot share the standard key")
{
  VastUser u;
  u.cli.ok({"account", "add", "lab2", "--provider", "vast"});
  auto r = u.cli.run({"worker", "sync"});
  CHECK(r.code == 2);
  one_error_line(r, "vast accounts lab, lab2 have no --credentials file");
  write_file(u.cli.dir() / "lab2.key", "TESTKEY\n");
  ::chmod((u.cli.dir() / "lab2.key").c_str(), 0644);
  u.cli.ok({"account", "set", "lab2", "--credentials", u.cli.dir() / "lab2.key"});
  r = u.cli.ok({"worker", "sync"});
  CHECK(r.err.find("warning: credentials file " + (u.cli.dir() / "lab2.key") + " is readable by other users") !=
        std::string::npos);
  no_secret(r);
}

namespace {

/// A user with a Kaggle account `alice` (kaggle.json file) pointed at a fresh fake.
struct KaggleUser {
  FakeServer fake{"kaggle"};
  Cli cli;
  KaggleUser()
  {
    cli.env["GPUCTL_KAGGLE_URL"] = fake.url();
    cli.env["GPUCTL_TEST_SLEEP"] = "record";
    write_file(cli.dir() / "alice.json", R"({"username": "alice", "key": "TESTKEY"})");
    ::chmod((cli.dir() / "alice.json").c_str(), 0600);
    cli.ok({"account", "add", "alice", "--provider", "kaggle", "--credentials", cli.dir() / "alice.json"});
  }
};

} // namespace

TEST_CASE("quota --sync moves quota to Kaggle's figure and records the event")
{
  KaggleUser u;
  u.cli.ok({"worker", "add", "k1", "--account", "alice", "--gpu", "T4"});
  u.cli.ok({"session", "add", "k1", "--start", "2026-11-29T08:00:00Z", "--end", "2026-11-29T10:00:00Z"});
  auto before = u.cli.ok({"quota", "alice", "--json"}).json();
  CHECK(before["windows"][0]["used_h"].get<double>() == doctest::Approx(2.0));
  // Kaggle says 9108 s (2.53 h) were used this week.
  u.fake.control("quota", {{"user", "alice"}, {"gpu_used_s", 9108}, {"gpu_total_s", 108000}});
  auto r = u.cli.ok({"quota", "alice", "--sync", "--json"});
  auto q = r.json();
  CHECK(q["windows"][0]["used_h"].get<double>() == doctest::Approx(2.53).epsilon(0.001));
  CHECK(r.err.empty()); // --json: no notes
  auto plain = u.cli.ok({"quota", "--sync"});
  CHECK(plain.err.find("alice: Kaggle reports 2.53 h used of 30.00 h") != std::string::npos);
  CAPTURE(plain.err);
  CHECK(plain.err.find("adjusted by +0.00 h") != std::string::npos); // already in line
  auto log = u.fake.log();
  CHECK(log.back()["path"] == "/v1/kernels.KernelsApiService/GetAcceleratorQuotaStatistics");
  CHECK(log.back()["body"] == "{}");
  CHECK(log.back()["headers"]["Authorization"] == "Basic [REDACTED]");
  // The event records both figures.
  SQLite::Database db(u.cli.db_path(), SQLite::OPEN_READONLY);
  SQLite::Statement ev(db, "SELECT detail_json FROM events WHERE type = 'quota-sync' ORDER BY id");
  REQUIRE(ev.executeStep());
  auto first = json::parse(ev.getColumn(0).getString());
  CHECK(first["ledger_used_h"].get<double>() == doctest::Approx(2.0));
  CHECK(first["provider_used_h"].get<double>() == doctest::Approx(2.53).epsilon(0.001));
  CHECK(first["adjustment_h"].get<double>() == doctest::Approx(0.53).epsilon(0.001));
  CHECK(first["provider_total_h"] == 30.0);
  CHECK(first["refresh"] == "2026-12-05T00:00:00Z");
  no_secret(r);
  no_secret(plain);
}

TEST_CASE("account check verifies credentials against the provider")
{
  KaggleUser u;
  auto ok = u.cli.ok({"account", "check", "alice", "--json"}).json();
  CHECK(ok[0]["ok"] == true);
  CHECK(ok[0]["detail"].get<std::string>().find("authenticated as alice") == 0);
  CHECK(ok[0]["credentials"] == "file");
  write_file(u.cli.dir() / "alice.json", R"({"username": "alice", "key": "WRONGKEY99"})");
  auto bad = u.cli.run({"account", "check", "alice"});
  CHECK(bad.code == 3);
  CHECK(bad.out.find("FAILED") != std::string::npos);
  CHECK(bad.out.find("the credentials were refused (HTTP 401") != std::string::npos);
  no_secret(bad, "WRONGKEY99");
  // A token file is sent as Bearer and introspected first.
  write_file(u.cli.dir() / "alice.json", "TESTTOKEN\n");
  auto tok = u.cli.ok({"account", "check", "alice", "--json"}).json();
  CHECK(tok[0]["ok"] == true);
  auto log = u.fake.log();
  CHECK(log[log.size() - 2]["path"] == "/v1/security.OAuthService/IntrospectToken");
  CHECK(log.back()["headers"]["Authorization"] == "Bearer [REDACTED]");
  CHECK(u.cli.run({"account", "check", "nobody"}).code == 2);
}

TEST_CASE("pacing is shared through the state file: a second process waits for the endpoint's slot")
{
  VastUser u;
  write_file(u.cli.dir() / "config.toml", "[providers.vast]\npace = \"60s\"\n");
  auto first = u.cli.ok({"worker", "sync"});
  CHECK(first.err.find("test: sleep") == std::string::npos);
  auto second = u.cli.ok({"worker", "sync"}); // another process, well within 60 s
  auto at = second.err.find("gpuctl: test: sleep ");
  REQUIRE(at != std::string::npos);
  long ms = std::stol(second.err.substr(at + 20));
  CHECK(ms > 50000);
  CHECK(ms <= 60000);
}

TEST_CASE("SIGINT cuts a Retry-After wait short: exit 130, nothing half-written")
{
  VastUser u;
  u.fake.fault("POST /api/v0/bundles/", "status", 1, {{"status", 429}, {"retry_after", "300"}});
  auto env = u.cli.env;
  env.erase("GPUCTL_TEST_SLEEP"); // a real wait this time
  auto started = std::chrono::steady_clock::now();
  int pid = spawn_gpuctl({"offers", "search"}, env);
  // Event-driven: signal once the fake has seen the request (gpuctl is then waiting).
  for (int i = 0; i < 500 && u.fake.log().empty(); ++i) {
    usleep(10000);
  }
  REQUIRE_FALSE(u.fake.log().empty());
  usleep(100000); // let it enter the wait
  kill(pid, SIGINT);
  CHECK(wait_exit(pid) == 130);
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(30));
}

TEST_CASE("an HTML 404 from a proxy is not proof that an instance is gone")
{
  VastUser u;
  u.cli.ok(u.rent_args(u.offer()));
  u.fake.fault("DELETE /api/v0/instances/*/", "status", 1,
               {{"status", 404}, {"body", "<html>Not Found</html>"}, {"content_type", "text/html"}});
  auto r = u.cli.run({"worker", "destroy", "v1", "--yes"});
  CHECK(r.code == 3);
  one_error_line(r, "vast.ai destroy instance: HTTP 404");
  CHECK(u.cli.ok({"worker", "show", "v1", "--json"}).json()["state"] != "deleted");
  CHECK(u.fake.state()["instances"].size() == 1);
  u.cli.ok({"worker", "destroy", "v1", "--yes"}); // the real answer next time
  CHECK(u.fake.state()["instances"].empty());
}

TEST_CASE("two accounts that share one key adopt each instance once")
{
  VastUser u;
  write_file(u.cli.dir() / "lab2.key", "TESTKEY\n");
  ::chmod((u.cli.dir() / "lab2.key").c_str(), 0600);
  u.cli.ok({"account", "add", "lab2", "--provider", "vast", "--credentials", u.cli.dir() / "lab2.key"});
  u.fake.control("instances", {{"count", 3}, {"label", "shared"}});
  auto r = u.cli.ok({"worker", "sync", "--adopt", "--json"}).json();
  int adopted = 0;
  for (const auto& x : r["unmanaged"]) {
    adopted += x["adopted_as"].is_string();
  }
  CHECK(adopted == 3);
  CHECK(u.cli.ok({"worker", "list", "--json"}).json().size() == 3);
  CHECK(u.cli.ok({"worker", "sync", "--adopt", "--json"}).json()["unmanaged"].empty());
}
