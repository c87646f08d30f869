// SPDX-License-Identifier: MIT
// hibernate/watchdog: the on-instance idle watchdog script, run with sh against fake_vast with a
// fake nvidia-smi, and checked with shellcheck.
#include "gpuctl/core/error.hpp"
#include "gpuctl/hibernate/watchdog.hpp"

#include "support/fake_server.hpp"
#include "support/support.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace gpuctl;
using namespace gpuctl::hibernate;
using namespace gpuctl::test;
using namespace std::chrono;
using nlohmann::json;

extern char** environ;

namespace {

/// A process started with posix_spawn in a process group of its own (so the script's `sleep`
/// children go with it); killed as a group and reaped at scope exit.
class Proc {
public:
  Proc(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env,
       const std::string& log)
  {
    std::vector<std::string> envs;
    for (const auto& [k, v] : env) {
      envs.push_back(k + "=" + v);
    }
    std::vector<char*> a, e;
    for (const auto& s : argv) {
      a.push_back(const_cast<char*>(s.c_str()));
    }
    a.push_back(nullptr);
    for (const auto& s : envs) {
      e.push_back(const_cast<char*>(s.c_str()));
    }
    e.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    posix_spawnattr_t at;
    posix_spawnattr_init(&at);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP);
    posix_spawnattr_setpgroup(&at, 0);
    int rc = posix_spawnp(&m_pid, a[0], &fa, &at, a.data(), e.data());
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    REQUIRE_MESSAGE(rc == 0, "cannot start " << argv[0]);
  }
  ~Proc() { stop(); }
  Proc(const Proc&) = delete;
  Proc& operator=(const Proc&) = delete;

  int pid() const { return m_pid; }
  /// Kills the whole group and reaps the leader (no zombie left to look alive to kill -0).
  void stop()
  {
    if (m_pid > 0) {
      ::kill(-m_pid, SIGKILL);
      int status = 0;
      ::waitpid(m_pid, &status, 0);
      m_pid = -1;
    }
  }
  /// Waits up to `limit` for the leader to exit; its exit code, or -1 when it is still running.
  int wait_exit(milliseconds limit)
  {
    auto end = steady_clock::now() + limit;
    while (steady_clock::now() < end) {
      int status = 0;
      if (::waitpid(m_pid, &status, WNOHANG) == m_pid) {
        m_pid = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      std::this_thread::sleep_for(milliseconds(50));
    }
    return -1;
  }

private:
  pid_t m_pid = -1;
};

/// Polls `pred` every 100 ms for at most `limit`.
bool
eventually(const std::function<bool()>& pred, milliseconds limit)
{
  auto end = steady_clock::now() + limit;
  while (steady_clock::now() < end) {
    if (pred()) {
      return true;
    }
    std::this_thread::sleep_for(milliseconds(100));
  }
  return pred();
}

bool
have(const char* program)
{
  return std::system((std::string("command -v ") + program + " >/dev/null 2>&1").c_str()) == 0;
}

/// A vast.ai instance on fake_vast, a fake nvidia-smi, and a HOME for the watchdog.
struct Rig {
  TempDir dir;
  FakeServer fake{"vast"};
  std::int64_t id = 0;
  std::string key; // the instance's own key (CONTAINER_API_KEY)

  Rig()
  {
    // Only the instance key can succeed: the account key is not TESTKEY any more, and it is
    // given to nobody.
    fake.control("keys", {{"keys", json::array({"ACCOUNT-KEY-NOT-ON-THE-INSTANCE"})}});
    json ids = fake.control("instances", {{"count", 1}})["ids"];
    REQUIRE(ids.size() == 1);
    id = ids[0].get<std::int64_t>();
    json st = fake.state();
    REQUIRE(st["instances"].size() == 1);
    key = st["instances"][0]["__api_key"].get<std::string>();
    REQUIRE(!key.empty());
    std::filesystem::create_directories(dir / "bin");
    std::filesystem::create_directories(dir / "home/.gpuctl/jobs");
    write_file(dir / "bin/nvidia-smi", "#!/bin/sh\ncat '" + (dir / "util") + "'\n");
    ::chmod((dir / "bin/nvidia-smi").c_str(), 0755);
    set_util("90");
  }

  /// What the fake nvidia-smi prints, one line per GPU.
  void set_util(const std::string& lines) { write_file(dir / "util", lines + "\n"); }

  WatchdogParams params() const
  {
    WatchdogParams p;
    p.idle_below = 5;
    p.idle_for = seconds(1);
    p.margin = seconds(1);
    p.interval = seconds(1);
    p.api_base = fake.url() + "/";
    return p;
  }

  std::map<std::string, std::string> env(const std::string& http = "") const
  {
    const char* path = std::getenv("PATH");
    std::map<std::string, std::string> e{
      {"PATH", (dir / "bin") + ":" + (path != nullptr ? path : "/usr/bin:/bin")},
      {"HOME", dir / "home"},
      {"CONTAINER_ID", std::to_string(id)},
      {"CONTAINER_API_KEY", key},
      {"LC_ALL", "C"}};
    if (!http.empty()) {
      e["GPUCTL_WATCHDOG_HTTP"] = http;
    }
    return e;
  }

  /// The script written to a file, ready for `sh FILE`.
  std::string script(const WatchdogParams& p) const
  {
    std::string path = dir / "watchdog.sh";
    write_file(path, watchdog_snippet(p));
    return path;
  }

  bool stopped()
  {
    json st = fake.state();
    return st["instances"].size() == 1 && st["instances"][0]["actual_status"] == "stopped";
  }

  /// The PUTs the watchdog made.
  std::vector<json> puts()
  {
    std::vector<json> out;
    for (const auto& e : fake.log()) {
      if (e["method"] == "PUT") {
        out.push_back(e);
      }
    }
    return out;
  }

  std::string log_text() const { return read_file(dir / "watchdog.log"); }

  /// Every PUT went to this instance with its own key (the log shows the header redacted, the
  /// fake accepted it while TESTKEY and the account key are not valid) and asked for a stop.
  void check_puts()
  {
    auto all = puts();
    REQUIRE(!all.empty());
    for (const auto& e : all) {
      CHECK(e["path"] == "/api/v0/instances/" + std::to_string(id) + "/");
      if (e["fault"].is_null()) { // a faulted call never reaches the handler that classifies
        CHECK(e["auth"] == "bearer");
      }
      CHECK(e["headers"]["Authorization"] == "Bearer [REDACTED]");
      CHECK(json::parse(e["body"].get<std::string>()) == json{{"state", "stopped"}});
    }
    CHECK(all.back()["auth_ok"] == true);
    CHECK(all.back()["status"] == 200);
    std::string dump = fake.log().dump();
    CHECK(dump.find("TESTKEY") == std::string::npos);
    CHECK(dump.find(key) == std::string::npos);
    CHECK(log_text().find(key) == std::string::npos);
  }
};

} // namespace

TEST_CASE("watchdog script - parameters and what it contains")
{
  WatchdogParams p;
  std::string s = watchdog_snippet(p);
  CHECK(s.rfind("#!/bin/sh\n", 0) == 0);
  CHECK(s.find("IDLE_BELOW=5\n") != std::string::npos);
  CHECK(s.find("IDLE_SECONDS=300\n") != std::string::npos); // 3m + 120 s
  CHECK(s.find("INTERVAL=30\n") != std::string::npos);
  CHECK(s.find("API_BASE='https://console.vast.ai'\n") != std::string::npos);
  CHECK(s.find("JOBS_DIR=\"${HOME:-/root}/.gpuctl/jobs\"\n") != std::string::npos);
  CHECK(s.find("/api/v0/instances/$CONTAINER_ID/") != std::string::npos);
  CHECK(s.find("{\"state\": \"stopped\"}") != std::string::npos);
  CHECK(s.find("VAST_API_KEY") == std::string::npos);
  CHECK(s.find('@') == std::string::npos); // every placeholder filled
  p.api_base = "http://127.0.0.1:8080//";
  p.jobs_dir = "/data/it's jobs";
  p.idle_below = 2.5;
  s = watchdog_snippet(p);
  CHECK(s.find("API_BASE='http://127.0.0.1:8080'\n") != std::string::npos);
  CHECK(s.find("JOBS_DIR='/data/it'\\''s jobs'\n") != std::string::npos);
  CHECK(s.find("IDLE_BELOW=2.5\n") != std::string::npos);

  auto rejects = [](auto change) {
    WatchdogParams q;
    change(q);
    try {
      watchdog_snippet(q);
    } catch (const Error& e) {
      return e.kind() == ErrorKind::usage;
    }
    return false;
  };
  CHECK(rejects([](WatchdogParams& q) { q.idle_below = 0; }));
  CHECK(rejects([](WatchdogParams& q) { q.idle_below = 100.5; }));
  CHECK(rejects([](WatchdogParams& q) { q.idle_for = seconds(0); }));
  CHECK(rejects([](WatchdogParams& q) { q.margin = seconds(-1); }));
  CHECK(rejects([](WatchdogParams& q) { q.interval = seconds(0); }));
  CHECK(rejects([](WatchdogParams& q) { q.api_base = "ftp://console.vast.ai"; }));
  CHECK(rejects([](WatchdogParams& q) { q.api_base = "https://a b"; }));
  CHECK(rejects([](WatchdogParams& q) { q.api_base = "https://"; }));
  CHECK(rejects([](WatchdogParams& q) { q.api_base = "https://x'y"; }));
  CHECK(rejects([](WatchdogParams& q) { q.jobs_dir = "/a\nb"; }));

  std::string on = watchdog_onstart(WatchdogParams{});
  CHECK(on.find("nohup sh \"$GPUCTL_WD_DIR/watchdog.sh\"") != std::string::npos);
  CHECK(on.find(watchdog_snippet(WatchdogParams{})) != std::string::npos);
}

TEST_CASE("watchdog script passes shellcheck -s sh")
{
  if (!have("shellcheck")) {
    MESSAGE("shellcheck not installed (apt-get install shellcheck): not checked");
    return;
  }
  TempDir dir;
  WatchdogParams p;
  p.jobs_dir = "/srv/jobs";
  for (const auto& [name, text] :
       std::vector<std::pair<std::string, std::string>>{{"watchdog.sh", watchdog_snippet({})},
                                                        {"custom.sh", watchdog_snippet(p)},
                                                        {"onstart.sh", watchdog_onstart({})}}) {
    CAPTURE(name);
    write_file(dir / name, text);
    std::string out = dir / (name + ".out");
    int rc = std::system(("shellcheck -s sh '" + (dir / name) + "' >'" + out + "' 2>&1").c_str());
    INFO(read_file(out));
    CHECK(rc == 0);
    CHECK(read_file(out).empty());
  }
}

TEST_CASE("watchdog stops an idle instance with its own key, never a busy one")
{
  Rig rig;
  Proc wd({"sh", rig.script(rig.params())}, rig.env("curl"), rig.dir / "watchdog.log");
  INFO(rig.log_text());
  // Busy (90 %), then no reading ([N/A]), then one of two GPUs busy: 3 s each, more than
  // idle_for + margin (2 s) — never stopped.
  for (const char* util : {"90", "[N/A]", "2\n50"}) {
    CAPTURE(util);
    rig.set_util(util);
    std::this_thread::sleep_for(seconds(3));
    CHECK_FALSE(rig.stopped());
    CHECK(rig.puts().empty());
  }
  CHECK(rig.log_text().find("watching instance " + std::to_string(rig.id)) != std::string::npos);
  // Idle (2 % and 0 %): stopped. The first stop answers 429, so it takes a retry.
  rig.fake.fault("PUT /api/v0/instances/*/", "status", 1, {{"status", 429}});
  rig.set_util("2\n0");
  CHECK(eventually([&] { return rig.stopped(); }, seconds(15)));
  wd.stop();
  INFO(rig.log_text());
  CHECK(rig.puts().size() == 2);
  CHECK(rig.log_text().find("stop failed") != std::string::npos);
  CHECK(rig.log_text().find("stop accepted") != std::string::npos);
  rig.check_puts();
}

TEST_CASE("watchdog waits for a live gpuctl job")
{
  Rig rig;
  std::string jobs = rig.dir / "home/.gpuctl/jobs";
  // An ended job (exit file) whose pid is alive, and one whose process is gone: neither counts.
  std::filesystem::create_directories(jobs + "/ended");
  write_file(jobs + "/ended/pid", std::to_string(::getpid()) + "\n");
  write_file(jobs + "/ended/exit", "0\n");
  std::filesystem::create_directories(jobs + "/vanished");
  write_file(jobs + "/vanished/pid", "999999999\n");
  std::filesystem::create_directories(jobs + "/starting"); // no pid file yet
  // A live job: `sleep 30`, its pid in jobs/KEY/pid.
  auto job = std::make_unique<Proc>(std::vector<std::string>{"sleep", "30"},
                                    std::map<std::string, std::string>{}, rig.dir / "job.log");
  std::filesystem::create_directories(jobs + "/KEY");
  write_file(jobs + "/KEY/pid", std::to_string(job->pid()) + "\n");

  rig.set_util("2");
  Proc wd({"sh", rig.script(rig.params())}, rig.env(), rig.dir / "watchdog.log");
  std::this_thread::sleep_for(seconds(4));
  INFO(rig.log_text());
  CHECK_FALSE(rig.stopped());
  CHECK(rig.puts().empty());
  // The job ends (killed and reaped: a zombie would still answer kill -0): stopped.
  job->stop();
  CHECK(eventually([&] { return rig.stopped(); }, seconds(15)));
  wd.stop();
  rig.check_puts();
}

TEST_CASE("watchdog stops through wget and python3 too")
{
  for (const char* tool : {"wget", "python3"}) {
    CAPTURE(tool);
    if (!have(tool)) {
      MESSAGE(tool << " not installed: not checked");
      continue;
    }
    Rig rig;
    rig.set_util("0");
    Proc wd({"sh", rig.script(rig.params())}, rig.env(tool), rig.dir / "watchdog.log");
    bool ok = eventually([&] { return rig.stopped(); }, seconds(15));
    wd.stop();
    INFO(rig.log_text());
    CHECK(ok);
    rig.check_puts();
  }
}

TEST_CASE("watchdog onstart installs and starts it once, in the background")
{
  Rig rig;
  auto env = rig.env();
  std::string onstart = rig.dir / "onstart.sh";
  write_file(onstart, watchdog_onstart(rig.params()));
  std::string wd_dir = rig.dir / "home/.gpuctl";
  // onstart returns at once and leaves the watchdog running; busy for now.
  Proc first({"sh", onstart}, env, rig.dir / "onstart.log");
  // The watchdog stays in onstart's process group: killed with it at scope exit, whatever fails.
  struct GroupKiller {
    pid_t pgid;
    ~GroupKiller() { ::kill(-pgid, SIGKILL); }
  } killer{first.pid()};
  CHECK(first.wait_exit(seconds(10)) == 0);
  std::string pid = read_file(wd_dir + "/watchdog.pid");
  REQUIRE(!pid.empty());
  int wd_pid = std::stoi(pid);
  CHECK(::kill(wd_pid, 0) == 0);
  CHECK(read_file(wd_dir + "/watchdog.sh") == watchdog_snippet(rig.params()));
  // A second onstart (the watchdog still alive) starts no second one. "Alive" is what onstart
  // checks in /proc: the background child has exec'd the script (on a loaded machine that can
  // trail onstart's own exit).
  CHECK(eventually(
      [&] {
        return read_file("/proc/" + std::to_string(wd_pid) + "/cmdline").find("watchdog.sh") !=
               std::string::npos;
      },
      seconds(10)));
  Proc second({"sh", onstart}, env, rig.dir / "onstart.log");
  CHECK(second.wait_exit(seconds(10)) == 0);
  CHECK(read_file(wd_dir + "/watchdog.pid") == pid);
  // Idle: the background watchdog stops the instance.
  rig.set_util("1");
  bool ok = eventually([&] { return rig.stopped(); }, seconds(15));
  ::kill(wd_pid, SIGKILL); // not our child: init reaps it; its group goes at scope exit
  INFO(read_file(wd_dir + "/watchdog.log"));
  CHECK(ok);
  CHECK(read_file(wd_dir + "/watchdog.log").find("stop accepted") != std::string::npos);
}

TEST_CASE("watchdog exits at once without the container credentials")
{
  Rig rig;
  auto env = rig.env();
  env.erase("CONTAINER_API_KEY");
  Proc wd({"sh", rig.script(rig.params())}, env, rig.dir / "watchdog.log");
  CHECK(wd.wait_exit(seconds(10)) == 1);
  CHECK(rig.log_text().find("CONTAINER_API_KEY is not set") != std::string::npos);
}
