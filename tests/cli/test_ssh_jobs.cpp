// SPDX-License-Identifier: MIT
// The real binary against a real OpenSSH server (tests/support/sshd.hpp): an ssh worker goes
// online with the fake nvidia-smi's utilisation, a job with hostile arguments runs on it exactly
// once with its input and output dirs, its log and events, and a worker whose sshd is gone goes
// offline after scheduler.heartbeat_timeout.
#include "support/fake_server.hpp"
#include "support/sshd.hpp"
#include "support/support.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <thread>

#include <unistd.h>

using namespace gpuctl::test;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

/// A user with an ssh account `lab` and a worker `box1` on a fresh sshd.
struct SshUser {
  std::unique_ptr<Sshd> sshd = std::make_unique<Sshd>();
  Cli cli;
  SshUser()
  {
    sshd->set_nvidia_smi("37 %, 1234 MiB\n");
    cli.env["GPUCTL_SSH_CONFIG"] = sshd->config_file();
    cli.ok({"account", "add", "lab", "--provider", "ssh"});
    cli.ok({"worker", "add", "box1", "--account", "lab", "--host", sshd->target()});
  }
  json job(long long id) { return cli.ok({"job", "show", std::to_string(id), "--json"}).json(); }
  json worker() { return cli.ok({"worker", "show", "box1", "--json"}).json(); }
  /// Runs `schedule --once` until job `id` is in a final state (at most ~10 s of real time).
  json run_until_final(long long id)
  {
    json j;
    for (int i = 0; i < 40; ++i) {
      cli.ok({"schedule", "--once"});
      j = job(id);
      std::string st = j["state"];
      if (st == "succeeded" || st == "failed" || st == "cancelled") {
        return j;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
    return j;
  }
  /// The remote job directories (one per dispatch key).
  std::vector<fs::path> remote_jobs() const
  {
    std::vector<fs::path> out;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(sshd->home() + "/.gpuctl/jobs", ec)) {
      out.push_back(e.path());
    }
    return out;
  }
};

bool
has_event(const json& events, const std::string& type, long long job)
{
  for (const auto& e : events) {
    if (e["type"] == type && e["job"] == job) {
      return true;
    }
  }
  return false;
}

} // namespace

TEST_CASE("ssh worker: schedule --once probes the host and marks it online with its GPU util")
{
  SshUser u;
  json w = u.worker();
  CHECK(w["state"] != "online");
  u.cli.ok({"schedule", "--once"});
  w = u.worker();
  CHECK(w["state"] == "online");
  REQUIRE(w["gpu_util"].is_number());
  CHECK(w["gpu_util"].get<double>() == doctest::Approx(37));
  json events = u.cli.ok({"events", "--json"}).json();
  bool online = false;
  for (const auto& e : events) {
    online = online || (e["type"] == "worker.online" && e["worker"] == "box1");
  }
  CHECK(online);
}

TEST_CASE("ssh job: hostile arguments arrive verbatim, input and output dirs, log and events")
{
  SshUser u;
  const std::string pwned = "/tmp/pwned-gpuctl-ssh-" + std::to_string(::getpid());
  fs::remove(pwned);
  const std::string in_dir = u.cli.dir() / "in";
  const std::string out_dir = u.cli.dir() / "out";
  fs::create_directories(in_dir);
  write_file(in_dir + "/in.txt", "input line 1\nline 'two' \"2\"\n");
  const std::vector<std::string> args = {
      "two words",        "it's",          "say \"hi\"",  "$(touch " + pwned + ")",
      "`touch " + pwned + "`", "a; touch " + pwned, "$HOME", "back\\slash", "*", "",
      "  lead and trail  ", "new\nline"};
  std::vector<std::string> submit = {
      "job", "submit", "--provider", "ssh", "--input", in_dir, "--output", out_dir, "--json", "--",
      "sh", "-c",
      "printf \"%s\\n\" \"$@\" > \"$GPUCTL_OUTPUT_DIR/args.txt\"; "
      "cat \"$GPUCTL_INPUT_DIR/in.txt\" > \"$GPUCTL_OUTPUT_DIR/in-copy.txt\"; echo job-ran",
      "sh"};
  submit.insert(submit.end(), args.begin(), args.end());
  long long id = u.cli.ok(submit).json()["id"].get<long long>();

  u.cli.ok({"schedule", "--once"});
  json j = u.job(id);
  CHECK(j["worker"] == "box1");
  CHECK((j["state"] == "dispatched" || j["state"] == "running"));
  CHECK(j["attempts"] == 1);

  j = u.run_until_final(id);
  REQUIRE(j["state"] == "succeeded");
  CHECK(j["exit_code"] == 0);
  CHECK(j["attempts"] == 1);

  std::string expected;
  for (const auto& a : args) {
    expected += a + "\n";
  }
  CHECK(read_file(out_dir + "/args.txt") == expected);
  CHECK(read_file(out_dir + "/in-copy.txt") == read_file(in_dir + "/in.txt"));
  CHECK_FALSE(fs::exists(pwned));
  CHECK(u.remote_jobs().size() == 1);

  auto logs = u.cli.ok({"job", "logs", std::to_string(id)});
  CHECK(logs.out.find("job-ran") != std::string::npos);

  json events = u.cli.ok({"events", "--json"}).json();
  CHECK(has_event(events, "job.dispatch", id));
  CHECK(has_event(events, "job.succeeded", id));
}

TEST_CASE("ssh job: further ticks while it runs start no second run")
{
  SshUser u;
  long long id =
      u.cli.ok({"job", "submit", "--json", "--", "sh", "-c", "sleep 3; echo done"}).json()["id"];
  u.cli.ok({"schedule", "--once"});
  u.cli.ok({"schedule", "--once"});
  json j = u.job(id);
  CHECK(j["state"] == "running");
  u.cli.ok({"schedule", "--once"});
  auto dirs = u.remote_jobs();
  REQUIRE(dirs.size() == 1);
  CHECK(fs::is_directory(dirs.front() / "started"));
  CHECK(u.job(id)["attempts"] == 1);
  j = u.run_until_final(id);
  CHECK(j["state"] == "succeeded");
  CHECK(j["attempts"] == 1);
  CHECK(u.remote_jobs().size() == 1);
}

TEST_CASE("ssh job: a failing command is failed with its exit code")
{
  SshUser u;
  long long id = u.cli.ok({"job", "submit", "--json", "--max-attempts", "1", "--", "sh", "-c",
                           "echo oops >&2; exit 7"})
                     .json()["id"];
  json j = u.run_until_final(id);
  CHECK(j["state"] == "failed");
  CHECK(j["exit_code"] == 7);
  CHECK(u.cli.ok({"job", "logs", std::to_string(id)}).out.find("oops") != std::string::npos);
}

TEST_CASE("ssh worker: its sshd gone, it goes offline after the heartbeat timeout")
{
  SshUser u;
  u.cli.ok({"schedule", "--once"});
  REQUIRE(u.worker()["state"] == "online");
  u.sshd.reset();
  // Within the heartbeat timeout (default 3m) it stays online.
  u.cli.run({"schedule", "--once"}, {{"GPUCTL_NOW", "2026-11-30T08:01:00Z"}});
  CHECK(u.worker()["state"] == "online");
  u.cli.run({"schedule", "--once"}, {{"GPUCTL_NOW", "2026-11-30T08:04:00Z"}});
  CHECK(u.worker()["state"] == "offline");
  json events = u.cli.ok({"events", "--json"}).json();
  bool offline = false;
  for (const auto& e : events) {
    offline = offline || (e["type"] == "worker.offline" && e["worker"] == "box1");
  }
  CHECK(offline);
}

TEST_CASE("worker add --identity and --host checks")
{
  Cli cli;
  cli.ok({"account", "add", "lab", "--provider", "ssh"});
  cli.ok({"account", "add", "k", "--provider", "kaggle"});
  write_file(cli.dir() / "id_key", "not really a key\n");
  cli.ok({"worker", "add", "box1", "--account", "lab", "--host", "me@box1:2222", "--identity",
          cli.dir() / "id_key"});
  // The same again is harmless; another identity is a conflict.
  cli.ok({"worker", "add", "box1", "--account", "lab", "--host", "me@box1:2222", "--identity",
          cli.dir() / "id_key"});
  write_file(cli.dir() / "other_key", "x\n");
  CHECK(cli.run({"worker", "add", "box1", "--account", "lab", "--host", "me@box1:2222",
                 "--identity", cli.dir() / "other_key"})
            .code == 4);
  CHECK(cli.run({"worker", "add", "box2", "--account", "lab", "--host", "me@box2",
                 "--identity", cli.dir() / "missing"})
            .code == 2);
  CHECK(cli.run({"worker", "add", "box3", "--account", "lab", "--host", "me@box3:99999"}).code == 2);
  CHECK(cli.run({"worker", "add", "box4", "--account", "lab", "--host", "a@b@c"}).code == 2);
  CHECK(cli.run({"worker", "add", "k1", "--account", "k", "--host", "me@box1"}).code == 2);
  CHECK(cli.run({"worker", "add", "k2", "--account", "k", "--identity", cli.dir() / "id_key"}).code ==
        2);
}

TEST_CASE("ssh job: cancel stops the remote run at the next tick")
{
  SshUser u;
  long long id = u.cli.ok({"job", "submit", "--json", "--", "sleep", "60"}).json()["id"];
  u.cli.ok({"schedule", "--once"});
  u.cli.ok({"schedule", "--once"});
  REQUIRE(u.job(id)["state"] == "running");
  u.cli.ok({"job", "cancel", std::to_string(id)});
  auto start = std::chrono::steady_clock::now();
  json j = u.run_until_final(id);
  CHECK(j["state"] == "cancelled");
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(10));
  auto dirs = u.remote_jobs();
  REQUIRE(dirs.size() == 1);
  CHECK(fs::exists(dirs.front() / "exit"));
}

TEST_CASE("ssh job: a script job runs the submitted snapshot with its arguments")
{
  SshUser u;
  const std::string script = u.cli.dir() / "train.sh";
  write_file(script, "echo \"script got [$1] [$2]\"\necho ok > \"$GPUCTL_OUTPUT_DIR/done.txt\"\n");
  long long id = u.cli.ok({"job", "submit", "--json", "--script", script, "--", "a b", "c'd"})
                     .json()["id"];
  json j = u.run_until_final(id);
  REQUIRE(j["state"] == "succeeded");
  std::string dir = j["output_dir"];
  CHECK(read_file(dir + "/done.txt") == "ok\n");
  CHECK(u.cli.ok({"job", "logs", std::to_string(id)}).out.find("script got [a b] [c'd]") !=
        std::string::npos);
}

TEST_CASE("vast job: the listing's ssh address is recorded and the job runs over ssh on the instance")
{
  if (::getuid() != 0) {
    // vast.ai images log in as root; the throwaway sshd can only log in as the test's own user.
    MESSAGE("skipped: needs root (CI runs as root)");
    return;
  }
  Sshd sshd;
  sshd.set_nvidia_smi("55 %, 100 MiB\n");
  FakeServer fake{"vast"};
  Cli cli;
  cli.env["GPUCTL_SSH_CONFIG"] = sshd.config_file();
  cli.env["GPUCTL_VAST_URL"] = fake.url();
  cli.env["VAST_API_KEY"] = "TESTKEY";
  cli.env["GPUCTL_TEST_SLEEP"] = "record";
  write_file(cli.dir() / "config.toml", "[providers.vast]\npace = \"0s\"\n");
  cli.env["GPUCTL_CONFIG"] = cli.dir() / "config.toml";
  cli.ok({"account", "add", "lab", "--provider", "vast"});
  auto offer = cli.ok({"offers", "search", "--gpu", "RTX_4090", "--limit", "1", "--json"}).json();
  cli.ok({"offers", "rent", std::to_string(offer.at(0)["id"].get<long long>()), "--name", "v1",
          "--account", "lab", "--image", "pytorch/pytorch"});
  const json st = fake.state();
  long long instance = st["instances"][0]["id"];
  // The instance runs, and its ssh address is the throwaway sshd.
  fake.control("clock", {{"advance", 120}});
  fake.control("instance/" + std::to_string(instance),
               {{"ssh_host", "127.0.0.1"}, {"ssh_port", sshd.port()}, {"gpu_util", 55.0}});
  auto id = std::stoll(cli.ok({"job", "submit", "--provider", "vast", "--", "sh", "-c",
                               "echo on-vast > \"$GPUCTL_OUTPUT_DIR/where.txt\""})
                           .out);
  json j;
  for (int i = 0; i < 40; ++i) {
    auto r = cli.run({"schedule", "--once"});
    CAPTURE(r.err);
    j = cli.ok({"job", "show", std::to_string(id), "--json"}).json();
    std::string s = j["state"];
    if (s == "succeeded" || s == "failed") {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  auto w = cli.ok({"worker", "show", "v1", "--json"}).json();
  CHECK(w["host"] == "root@127.0.0.1:" + std::to_string(sshd.port()));
  CHECK(j["state"] == "succeeded");
  CHECK(j["worker"] == "v1");
  CHECK(read_file(j["output_dir"].get<std::string>() + "/where.txt") == "on-vast\n");
}
