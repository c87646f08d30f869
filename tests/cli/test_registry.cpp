// End-to-end: the real binary in a temp HOME with a fixed clock (issue 4 acceptance 2–6).
#include "support/support.hpp"

#include "gpuctl/store/database.hpp"

#include <SQLiteCpp/Database.h>
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>

using namespace gpuctl::test;
using nlohmann::json;

namespace {

void
add_three(const Cli& cli)
{
  cli.ok({"account", "add", "alice", "--provider", "kaggle"});
  cli.ok({"worker", "add", "k1", "--account", "alice", "--gpu", "T4"});
  cli.ok({"account", "add", "bob", "--provider", "colab"});
  cli.ok({"worker", "add", "c1", "--account", "bob", "--gpu", "T4"});
  cli.ok({"account", "add", "carol", "--provider", "vast", "--max-usd-per-day", "5"});
  cli.ok({"worker", "add", "v1", "--account", "carol", "--gpu", "RTX_4090", "--instance-id", "4242",
          "--price", "0.35"});
}

const std::set<std::string> k_worker_fields = {
    "name",  "account", "provider",    "gpu",   "gpu_count", "enabled", "state",   "control",
    "host",  "instance_id", "price_usd_per_hour", "gpu_util", "last_seen", "created", "session"};

} // namespace

TEST_CASE("worker list --json lists exactly the registered workers with the §10 fields")
{
  Cli cli;
  add_three(cli);
  json list = cli.ok({"worker", "list", "--json"}).json();
  REQUIRE(list.is_array());
  REQUIRE(list.size() == 3);
  std::map<std::string, json> by_name;
  for (const auto& w : list) {
    std::set<std::string> keys;
    for (auto it = w.begin(); it != w.end(); ++it) {
      keys.insert(it.key());
    }
    CHECK(keys == k_worker_fields);
    by_name[w["name"]] = w;
  }
  const json& k1 = by_name.at("k1");
  CHECK(k1["account"] == "alice");
  CHECK(k1["provider"] == "kaggle");
  CHECK(k1["gpu"] == "T4");
  CHECK(k1["gpu_count"] == 1);
  CHECK(k1["enabled"] == true);
  CHECK(k1["state"] == "offline");
  CHECK(k1["control"] == "manual");
  CHECK(k1["host"].is_null());
  CHECK(k1["instance_id"].is_null());
  CHECK(k1["price_usd_per_hour"].is_null());
  CHECK(k1["gpu_util"].is_null());
  CHECK(k1["last_seen"].is_null());
  CHECK(k1["created"] == "2026-11-30T08:00:00Z");
  CHECK(k1["session"].is_null());
  CHECK(by_name.at("c1")["provider"] == "colab");
  const json& v1 = by_name.at("v1");
  CHECK(v1["provider"] == "vast");
  CHECK(v1["instance_id"] == "4242");
  CHECK(v1["price_usd_per_hour"] == doctest::Approx(0.35));
  CHECK(v1["gpu"] == "RTX_4090");

  json only = cli.ok({"worker", "list", "--account", "bob", "--json"}).json();
  REQUIRE(only.size() == 1);
  CHECK(only[0]["name"] == "c1");
  json vast = cli.ok({"worker", "list", "--provider", "vast", "--json"}).json();
  REQUIRE(vast.size() == 1);
  CHECK(vast[0]["name"] == "v1");
  json one = cli.ok({"worker", "show", "v1", "--json"}).json();
  CHECK(one["name"] == "v1");
}

TEST_CASE("account list --json shows each account's effective policy")
{
  Cli cli;
  add_three(cli);
  cli.ok({"account", "add", "dave", "--provider", "kaggle", "--weekly-hours", "20",
          "--session-max", "9h", "--shutdown-margin", "15m", "--concurrent", "1"});
  json list = cli.ok({"account", "list", "--json"}).json();
  REQUIRE(list.size() == 4);
  std::map<std::string, json> by;
  for (const auto& a : list) {
    for (const char* f : {"name", "provider", "workers", "credentials", "policy", "created"}) {
      CHECK(a.contains(f));
    }
    for (const char* f : {"weekly_gpu_hours", "daily_gpu_hours", "session_max_s", "shutdown_margin_s",
                          "concurrent", "max_usd_per_day"}) {
      CHECK(a["policy"].contains(f));
    }
    by[a["name"]] = a;
  }
  const json& alice = by.at("alice")["policy"];
  CHECK(alice["weekly_gpu_hours"] == 30.0);
  CHECK(alice["daily_gpu_hours"] == 0.0);
  CHECK(alice["session_max_s"] == 43200);
  CHECK(alice["shutdown_margin_s"] == 1800);
  CHECK(alice["concurrent"] == 2);
  CHECK(by.at("alice")["workers"] == 1);
  CHECK(by.at("alice")["credentials"].is_null());
  const json& bob = by.at("bob")["policy"];
  CHECK(bob["daily_gpu_hours"] == 12.0);
  CHECK(bob["weekly_gpu_hours"] == 0.0);
  CHECK(bob["concurrent"] == 1);
  const json& carol = by.at("carol")["policy"];
  CHECK(carol["max_usd_per_day"] == 5.0);
  CHECK(carol["session_max_s"].is_null());
  CHECK(carol["concurrent"].is_null());
  const json& dave = by.at("dave")["policy"];
  CHECK(dave["weekly_gpu_hours"] == 20.0);
  CHECK(dave["session_max_s"] == 32400);
  CHECK(dave["shutdown_margin_s"] == 900);
  CHECK(dave["concurrent"] == 1);
  CHECK(by.at("dave")["workers"] == 0);

  // account set changes and resets overrides; config changes the defaults.
  cli.ok({"account", "set", "dave", "--weekly-hours", "25", "--reset", "session_max"});
  json d = cli.ok({"account", "show", "dave", "--json"}).json();
  CHECK(d["policy"]["weekly_gpu_hours"] == 25.0);
  CHECK(d["policy"]["session_max_s"] == 43200);
  write_file(cli.env.at("XDG_CONFIG_HOME") + "/gpuctl/config.toml",
             "[providers.kaggle]\nsession_max = \"9h\"\n");
  CHECK(cli.ok({"account", "show", "dave", "--json"}).json()["policy"]["session_max_s"] == 32400);
}

TEST_CASE("credentials: a file is referenced, never shown")
{
  Cli cli;
  std::string cred = cli.dir() / "alice.json";
  write_file(cred, "{\"username\":\"alice\",\"key\":\"SECRETKEY123\"}");
  cli.ok({"account", "add", "alice", "--provider", "kaggle", "--credentials", cred});
  auto r = cli.ok({"account", "show", "alice", "--json"});
  CHECK(r.json()["credentials"] == "file");
  CHECK(r.out.find("SECRETKEY123") == std::string::npos);
  Cli with_env;
  with_env.env["KAGGLE_API_TOKEN"] = "KGAT_notreal";
  with_env.ok({"account", "add", "bob", "--provider", "kaggle"});
  auto shown = with_env.ok({"account", "list", "--json"});
  CHECK(shown.json()[0]["credentials"] == "env");
  CHECK(shown.out.find("KGAT_notreal") == std::string::npos);
  CHECK(cli.run({"account", "add", "x", "--provider", "kaggle", "--credentials", cli.dir() / "missing"}).code == 2);
  CHECK(cli.run({"account", "add", "y", "--provider", "colab", "--credentials", cred}).code == 2);
}

TEST_CASE("file modes, idempotent init and add, conflicting re-add")
{
  Cli cli;
  auto r = cli.ok({"init"});
  CHECK(file_mode(cli.db_path()) == 0600);
  CHECK(file_mode(cli.env.at("XDG_STATE_HOME") + "/gpuctl") == 0700);
  cli.ok({"init"});
  CHECK(cli.ok({"init", "--json"}).json()["created"] == false);

  cli.ok({"account", "add", "alice", "--provider", "kaggle"});
  cli.ok({"worker", "add", "k1", "--account", "alice", "--gpu", "T4"});
  auto before = file_hash(cli.db_path()) ^ file_hash(cli.db_path() + "-wal");
  auto again = cli.run({"worker", "add", "k1", "--account", "alice", "--gpu", "T4"});
  CHECK(again.code == 0);
  CHECK(again.err.find("unchanged") != std::string::npos);
  CHECK(cli.run({"account", "add", "alice", "--provider", "kaggle"}).code == 0);
  CHECK((file_hash(cli.db_path()) ^ file_hash(cli.db_path() + "-wal")) == before);

  cli.ok({"account", "add", "bob", "--provider", "kaggle"});
  before = file_hash(cli.db_path()) ^ file_hash(cli.db_path() + "-wal");
  auto other_account = cli.run({"worker", "add", "k1", "--account", "bob", "--gpu", "T4"});
  CHECK(other_account.code == 4);
  CHECK(other_account.err.find("k1") != std::string::npos);
  CHECK(cli.run({"worker", "add", "k1", "--account", "alice", "--gpu", "P100"}).code == 4);
  CHECK(cli.run({"account", "add", "alice", "--provider", "colab"}).code == 4);
  CHECK((file_hash(cli.db_path()) ^ file_hash(cli.db_path() + "-wal")) == before);
}

TEST_CASE("invalid input exits 2 with one line and leaves the DB bytes unchanged")
{
  Cli cli;
  cli.ok({"account", "add", "alice", "--provider", "kaggle"});
  cli.ok({"worker", "add", "k1", "--account", "alice"});
  cli.ok({"account", "add", "lab", "--provider", "vast"});
  cli.ok({"worker", "add", "v1", "--account", "lab", "--instance-id", "777"});
  const auto hash = [&] { return file_hash(cli.db_path()) ^ (file_hash(cli.db_path() + "-wal") << 1); };
  const auto before = hash();
  struct Case {
    std::vector<std::string> args;
    std::string needle;
    std::map<std::string, std::string> env = {};
  };
  std::vector<Case> cases = {
      {{"account", "add", "x", "--provider", "gcp"}, "unknown provider 'gcp'"},
      {{"worker", "add", "w", "--account", "nobody"}, "no account named 'nobody'"},
      {{"worker", "add", "list", "--account", "alice"}, "command word"},
      {{"account", "add", "status", "--provider", "kaggle"}, "command word"},
      {{"account", "add", "x", "--provider", "kaggle", "--session-max", "12x"}, "12x"},
      {{"account", "add", "x", "--provider", "kaggle", "--shutdown-margin", "-5m"}, "-5m"},
      {{"account", "add", "x", "--provider", "kaggle", "--weekly-hours", "-3"}, "weekly"},
      {{"account", "add", "x", "--provider", "colab", "--daily-hours", "-1"}, "daily"},
      {{"account", "add", "bad name", "--provider", "kaggle"}, "invalid account name"},
      {{"worker", "add", "w", "--account", "alice", "--gpu-count", "0"}, "gpu-count"},
      {{"worker", "rm", "ghost"}, "no worker named 'ghost'"},
      {{"account", "rm", "ghost"}, "no account named 'ghost'"},
      {{"account", "set", "alice", "--concurrent", "0"}, "concurrent"},
      {{"account", "set", "alice", "--max-usd-per-day", "3"}, "vast"},
      {{"account", "add", "x", "--provider", "kaggle"}, "GPUCTL_NOW", {{"GPUCTL_NOW", "yesterday"}}},
      {{"worker", "list"}, "GPUCTL_NOW", {{"GPUCTL_NOW", "2026-11-30 08:00"}}},
      {{"wroker", "list"}, "did you mean 'worker'"},
      {{"worker", "lst"}, "did you mean 'list'"},
      {{"worker", "list", "--tz", "Mars/Base"}, "Mars/Base"},
      {{"account", "set", "alice", "--weekly-hours", ""}, "--weekly-hours"},
      {{"account", "set", "alice", "--weekly-hours", "inf"}, "--weekly-hours"},
      {{"account", "set", "alice", "--weekly-hours", "0x10"}, "--weekly-hours"},
      {{"account", "set", "alice", "--session-max", "10m"}, "shorter than the session cap"},
      {{"worker", "add", "w", "--account", "alice", "--gpu-count", "-1"}, "--gpu-count"},
      {{"account", "show", "\x1b]0;x\x07"}, "\\x1b]0;x\\x07"},
      {{"worker", "add", "v2", "--account", "lab", "--instance-id", "abc"}, "invalid --instance-id 'abc'"},
      {{"worker", "add", "v2", "--account", "lab", "--instance-id", "-1"}, "invalid --instance-id '-1'"},
      {{"worker", "add", "v2", "--account", "lab", "--instance-id", "0777"}, "invalid --instance-id '0777'"},
      {{"worker", "add", "v2", "--account", "lab", "--instance-id", " 777"}, "invalid --instance-id ' 777'"},
      {{"worker", "add", "v2", "--account", "lab", "--instance-id", ""}, "invalid --instance-id ''"},
  };
  for (const auto& c : cases) {
    auto r = cli.run(c.args, c.env);
    std::string line;
    for (const auto& a : c.args) line += a + " ";
    CAPTURE(line);
    CAPTURE(r.err);
    CHECK(r.code == 2);
    CHECK(r.out.empty());
    CHECK(r.err.find(c.needle) != std::string::npos);
    CHECK(r.err.rfind("gpuctl: error: ", 0) == 0);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    CHECK(hash() == before);
  }
  // One worker per vast.ai instance: a second is a conflict (exit 4), not an internal error.
  auto dup = cli.run({"worker", "add", "v2", "--account", "lab", "--instance-id", "777"});
  CHECK(dup.code == 4);
  CHECK(dup.err == "gpuctl: error: vast.ai instance 777 is already worker 'v1'\n");
  CHECK(hash() == before);
}

TEST_CASE("config errors exit 2 naming the key, line and column")
{
  Cli cli;
  cli.ok({"account", "add", "alice", "--provider", "kaggle"});
  std::string cfg = cli.env.at("XDG_CONFIG_HOME") + "/gpuctl/config.toml";
  const auto before = file_hash(cli.db_path());
  write_file(cfg, "[quota]\nsafe_below = 0.7\ncritical_abov = 0.9\n");
  auto r = cli.run({"worker", "add", "k1", "--account", "alice"});
  CHECK(r.code == 2);
  CHECK(r.err.find("quota.critical_abov") != std::string::npos);
  CHECK(r.err.find("line 3") != std::string::npos);
  CHECK(r.err.find("did you mean 'quota.critical_above'") != std::string::npos);
  for (const char* bad : {"[providers.kaggle]\nconcurrent = 0\n", "[quota]\nsafe_below = 1.5\n",
                          "[quota]\nsafe_below = 0.95\ncritical_above = 0.9\n",
                          "[autoscale]\nmin = 5\nmax = 2\n", "[display]\ntz = \"Mars/Base\"\n",
                          "[providers.colab]\nsession_max = \"10m\"\n",
                          "[providers.vast]\nbase_url = \"http://127.0.0.1@evil.com/\"\n",
                          "[providers.vast]\nbase_url = \"http://127.evil.com\"\n"}) {
    write_file(cfg, bad);
    CAPTURE(bad);
    auto res = cli.run({"status"});
    CHECK(res.code == 2);
    CHECK(res.out.empty());
  }
  // A key put in the URL is refused without being echoed (the line may go to cron mail).
  write_file(cfg, "");
  auto keyed = cli.run({"status"}, {{"GPUCTL_VAST_URL", "http://SECRETKEY123@127.0.0.1:8081/"}});
  CHECK(keyed.code == 2);
  CHECK(keyed.err.find("SECRETKEY123") == std::string::npos);
  CHECK(keyed.err.find("'http://[REDACTED]@127.0.0.1:8081/' (from GPUCTL_VAST_URL): credentials "
                       "do not belong in a URL") != std::string::npos);
    write_file(cfg, "[quota\nsafe_below = 0.7\n");
  r = cli.run({"worker", "add", "k1", "--account", "alice"});
  CHECK(r.code == 2);
  CHECK(r.err.find("line 1, column") != std::string::npos);
  CHECK(file_hash(cli.db_path()) == before);
  CHECK(cli.run({"--config", cli.dir() / "nope.toml", "status"}).code == 2);
}

TEST_CASE("config show and path report values, sources and paths")
{
  Cli cli;
  write_file(cli.env.at("XDG_CONFIG_HOME") + "/gpuctl/config.toml", "[quota]\nsafe_below = 0.6\n");
  cli.env["GPUCTL_VAST_URL"] = "http://127.0.0.1:8081";
  json show = cli.ok({"config", "show", "--json", "--tz", "Europe/Berlin"}).json();
  CHECK(show["quota.safe_below"]["value"] == 0.6);
  CHECK(show["quota.safe_below"]["source"] == "file");
  CHECK(show["quota.critical_above"]["source"] == "default");
  CHECK(show["providers.vast.base_url"]["value"] == "http://127.0.0.1:8081");
  CHECK(show["providers.vast.base_url"]["source"] == "env");
  CHECK(show["display.tz"]["value"] == "Europe/Berlin");
  CHECK(show["display.tz"]["source"] == "flag");
  CHECK(show.size() == 46);
  json path = cli.ok({"config", "path", "--json"}).json();
  CHECK(path["config"] == cli.env.at("XDG_CONFIG_HOME") + "/gpuctl/config.toml");
  CHECK(path["config_exists"] == true);
  CHECK(path["db"] == cli.db_path());
  CHECK(path["db_exists"] == false);
  // --db and GPUCTL_DB choose the state file.
  cli.env["GPUCTL_DB"] = cli.dir() / "env.db";
  CHECK(cli.ok({"config", "path", "--json"}).json()["db"] == cli.dir() / "env.db");
  CHECK(cli.ok({"--db", cli.dir() / "flag.db", "config", "path", "--json"}).json()["db"] ==
        cli.dir() / "flag.db");
}

TEST_CASE("read-only commands never create the state file")
{
  Cli cli;
  for (std::vector<std::string> args :
       {std::vector<std::string>{"worker", "list"}, {"account", "list", "--json"}, {"status"},
        {"status", "--json"}, {"config", "show"}, {"config", "path"}}) {
    cli.ok(args);
  }
  CHECK(file_mode(cli.db_path()) == -1);
  CHECK(cli.run({"worker", "show", "k1"}).code == 2);
  CHECK(cli.run({"worker", "disable", "k1"}).code == 2);
  CHECK(file_mode(cli.db_path()) == -1);
}

TEST_CASE("account rm with workers needs --force, which removes them in one go")
{
  Cli cli;
  cli.ok({"account", "add", "alice", "--provider", "kaggle"});
  cli.ok({"worker", "add", "k1", "--account", "alice"});
  cli.ok({"worker", "add", "k2", "--account", "alice"});
  auto r = cli.run({"account", "rm", "alice"});
  CHECK(r.code == 4);
  CHECK(r.err.find("--force") != std::string::npos);
  CHECK(cli.ok({"worker", "list", "--json"}).json().size() == 2);
  json out = cli.ok({"account", "rm", "alice", "--force", "--json"}).json();
  CHECK(out["workers_removed"] == 2);
  CHECK(cli.ok({"worker", "list", "--json"}).json().empty());
  CHECK(cli.ok({"account", "list", "--json"}).json().empty());
}

TEST_CASE("enable, disable, rm and status")
{
  Cli cli;
  add_three(cli);
  CHECK(cli.ok({"worker", "disable", "k1", "--json"}).json()["enabled"] == false);
  CHECK(cli.ok({"worker", "disable", "k1"}).err.find("already") != std::string::npos);
  CHECK(cli.ok({"worker", "enable", "k1", "--json"}).json()["enabled"] == true);
  json st = cli.ok({"status", "--json"}).json();
  CHECK(st["workers"]["total"] == 3);
  CHECK(st["workers"]["online"] == 0);
  CHECK(st["workers"]["by_state"]["offline"] == 3);
  CHECK(st["workers"]["by_provider"]["kaggle"] == 1);
  CHECK(st["workers"]["by_provider"]["vast"] == 1);
  cli.ok({"worker", "rm", "c1"});
  CHECK(cli.ok({"status", "--json"}).json()["workers"]["total"] == 2);
  auto human = cli.ok({"status"});
  CHECK(human.out.find("2 total") != std::string::npos);
  CHECK(human.out.find("\x1b[") == std::string::npos); // not a TTY: no colour
}

TEST_CASE("a removed worker's events keep its name, and events --worker still finds them")
{
  Cli cli;
  add_three(cli);
  cli.ok({"worker", "rm", "k1"});
  json ev = cli.ok({"events", "--worker", "k1", "--json"}).json();
  std::vector<std::string> types;
  for (const auto& e : ev) {
    CHECK(e["worker"] == "k1");
    types.push_back(e["type"]);
  }
  CHECK(types == std::vector<std::string>{"worker.add", "worker.rm"});
  auto table = cli.ok({"events", "--type", "worker.rm"});
  CHECK(table.out.find(" k1 ") != std::string::npos);
  auto ghost = cli.run({"events", "--worker", "ghost"});
  CHECK(ghost.code == 2);
  CHECK(ghost.err.find("no worker named 'ghost'") != std::string::npos);
}

TEST_CASE("a DB from a newer gpuctl is refused with exit 4")
{
  Cli cli;
  cli.ok({"init"});
  {
    SQLite::Database raw(cli.db_path(), SQLite::OPEN_READWRITE);
    raw.exec("PRAGMA user_version = 99");
  }
  auto before = file_hash(cli.db_path());
  auto r = cli.run({"worker", "list"});
  CHECK(r.code == 4);
  CHECK(r.err.find("newer") != std::string::npos);
  CHECK(cli.run({"account", "add", "a", "--provider", "kaggle"}).code == 4);
  CHECK(file_hash(cli.db_path()) == before);
}

TEST_CASE("a state file damaged past its first page: reads exit 2 naming it, not an internal error")
{
  Cli cli;
  add_three(cli);
  // Every page but the first (header and schema) overwritten, as a bad disk or a half-copied
  // file would: the file still opens, and the first query that reads a table meets garbage.
  {
    std::fstream f(cli.db_path(), std::ios::in | std::ios::out | std::ios::binary);
    REQUIRE(f);
    unsigned char hdr[18];
    f.read(reinterpret_cast<char*>(hdr), sizeof hdr);
    long page = (hdr[16] << 8) | hdr[17];
    f.seekg(0, std::ios::end);
    long size = f.tellg();
    REQUIRE(size > 2 * page);
    std::string garbage(static_cast<size_t>(size - page), '\x5a');
    f.seekp(page);
    f.write(garbage.data(), static_cast<std::streamsize>(garbage.size()));
  }
  for (auto args : std::vector<std::vector<std::string>>{{"worker", "list"}, {"status", "--json"}}) {
    auto r = cli.run(args);
    CAPTURE(args);
    CAPTURE(r.err);
    CHECK(r.code == 2);
    CHECK(r.out.empty());
    CHECK(r.err.rfind("gpuctl: error: state file '" + cli.db_path() + "' is damaged: ", 0) == 0);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  }
}

TEST_CASE("a schema-1 state file upgrades under the binary with its data intact")
{
  Cli cli;
  std::filesystem::create_directories(cli.env.at("XDG_STATE_HOME") + "/gpuctl");
  {
    SQLite::Database raw(cli.db_path(), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    gpuctl::store::migrate(raw, 1);
    raw.exec("INSERT INTO accounts(name, provider, policy_json, created_at) VALUES "
             "('alice', 'kaggle', '{\"concurrent\":1}', 1796000000)");
    raw.exec("INSERT INTO workers(name, account_id, provider, gpu, created_at) VALUES "
             "('k1', 1, 'kaggle', 'T4', 1796000001)");
  }
  auto before = file_hash(cli.db_path());
  json w = cli.ok({"worker", "list", "--json"}).json(); // read: upgraded copy, file untouched
  REQUIRE(w.size() == 1);
  CHECK(w[0]["name"] == "k1");
  CHECK(file_hash(cli.db_path()) == before);
  cli.ok({"worker", "add", "k2", "--account", "alice", "--gpu", "P100"}); // write: migrates
  {
    SQLite::Database raw(cli.db_path(), SQLite::OPEN_READONLY);
    CHECK(gpuctl::store::schema_version(raw) == gpuctl::store::latest_schema_version());
  }
  json a = cli.ok({"account", "show", "alice", "--json"}).json();
  CHECK(a["policy"]["concurrent"] == 1);
  CHECK(a["workers"] == 2);
  CHECK(a["created"] == "2026-11-30T00:53:20Z");
}

TEST_CASE("8 concurrent worker adds all succeed, never 'database is locked'")
{
  Cli cli;
  cli.ok({"account", "add", "lab", "--provider", "ssh"});
  for (int round = 0; round < 3; ++round) {
    std::vector<int> pids;
    for (int i = 0; i < 8; ++i) {
      pids.push_back(spawn_gpuctl({"worker", "add", "w" + std::to_string(round) + "-" + std::to_string(i),
                                   "--account", "lab", "--host", "me@box" + std::to_string(i)},
                                  cli.env));
    }
    for (int pid : pids) {
      CHECK(wait_exit(pid) == 0);
    }
  }
  CHECK(cli.ok({"worker", "list", "--json"}).json().size() == 24);
}

TEST_CASE("8 concurrent processes creating a brand-new state file")
{
  Cli cli;
  std::vector<int> pids;
  for (int i = 0; i < 8; ++i) {
    pids.push_back(spawn_gpuctl({"account", "add", "a" + std::to_string(i), "--provider", "colab"}, cli.env));
  }
  for (int pid : pids) {
    CHECK(wait_exit(pid) == 0);
  }
  CHECK(cli.ok({"account", "list", "--json"}).json().size() == 8);
}

TEST_CASE("version and help")
{
  Cli cli;
  CHECK(cli.ok({"--version"}).out.rfind("gpuctl ", 0) == 0);
  CHECK(cli.ok({"version", "--json"}).json().contains("version"));
  auto help = cli.ok({"--help"});
  for (const char* cmd : {"init", "config", "account", "worker", "status"}) {
    CHECK(help.out.find(cmd) != std::string::npos);
  }
  CHECK(cli.ok({"worker", "add", "--help"}).out.find("Example") != std::string::npos);
  CHECK(cli.run({}).code == 2);
}
