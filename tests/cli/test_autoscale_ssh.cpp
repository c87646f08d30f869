// SPDX-License-Identifier: MIT
// `gpuctl autoscale --pool ssh` against a real OpenSSH server (tests/support/sshd.hpp) and
// fake_dask: an idle ssh worker is borrowed (control → autoscale) and its Dask worker loop starts
// detached over ssh; gpuctl jobs are not dispatched there meanwhile; once Dask retired it, its
// remote loop is stopped and the machine goes back to its former control.
#include "support/fake_server.hpp"
#include "support/sshd.hpp"
#include "support/support.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include <signal.h>

using namespace gpuctl::test;
using nlohmann::json;

TEST_CASE("autoscale --pool ssh: borrows an idle ssh worker, runs the Dask worker there, hands it back after Dask retired it")
{
  Sshd sshd;
  FakeServer dask("dask");
  Cli cli;
  const long long t0 = 1796025600;
  // A fake `dask` first on the remote PATH: records its arguments and runs until killed.
  write_file(sshd.dir() + "/bin/dask",
             "#!/bin/sh\necho \"$@\" >> \"$HOME/dask-args\"\nexec sleep 300\n");
  std::filesystem::permissions(sshd.dir() + "/bin/dask", std::filesystem::perms::owner_all);
  cli.env["GPUCTL_SSH_CONFIG"] = sshd.config_file();
  cli.env["GPUCTL_NOW"] = "@" + std::to_string(t0);
  write_file(cli.dir() / "config.toml",
             "[autoscale]\ndask_url = \"" + dask.url() +
                 "\"\nscheduler = \"tcp://127.0.0.1:8786\"\npool = \"ssh\"\nscale_down_after = \"2m\"\n");
  cli.env["GPUCTL_CONFIG"] = cli.dir() / "config.toml";
  cli.ok({"account", "add", "lab", "--provider", "ssh"});
  cli.ok({"worker", "add", "box1", "--account", "lab", "--host", sshd.target()});
  cli.ok({"schedule", "--once"}); // the probe marks it online
  REQUIRE(cli.ok({"worker", "show", "box1", "--json"}).json()["state"] == "online");

  dask.control("cluster", {{"adaptive_target", 1}, {"counts", {{"unrunnable", 3}}}});
  auto r = cli.run({"autoscale", "--once", "--json"});
  INFO(r.out << r.err);
  REQUIRE(r.code == 0);
  json rep = r.json();
  REQUIRE(rep["steps"].size() == 1);
  CHECK(rep["steps"][0]["type"] == "autoscale.start");
  CHECK(rep["steps"][0]["worker"] == "box1");
  CHECK(cli.ok({"worker", "show", "box1", "--json"}).json()["control"] == "autoscale");
  const std::string args_file = sshd.home() + "/dask-args";
  bool ran = false;
  for (int i = 0; i < 50 && !ran; ++i) {
    ran = std::filesystem::exists(args_file);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  REQUIRE(ran);
  const std::string args = read_file(args_file);
  CHECK(args.find("worker tcp://127.0.0.1:8786 --name gpuctl-box1 --no-nanny --resources GPU=1") !=
        std::string::npos);
  CHECK(args.find("--contact-address") == std::string::npos);

  // A gpuctl job waits rather than landing on the machine Dask is using.
  cli.ok({"job", "submit", "--provider", "ssh", "--", "true"});
  cli.ok({"schedule", "--once"});
  CHECK(cli.ok({"job", "show", "1", "--json"}).json()["state"] == "queued");

  // It joins, the demand ends, and after scale_down_after Dask retires it.
  dask.control("worker", {{"name", "gpuctl-box1"}, {"address", "tcp://127.0.0.1:19500"}});
  dask.control("cluster", {{"adaptive_target", 0}, {"counts", {{"unrunnable", 0}}}});
  cli.ok({"autoscale", "--once"});
  cli.env["GPUCTL_NOW"] = "@" + std::to_string(t0 + 180);
  json down = cli.ok({"autoscale", "--once", "--json"}).json();
  std::vector<std::string> types;
  for (const auto& s : down["steps"]) {
    types.push_back(s["type"]);
  }
  CHECK(types == std::vector<std::string>{"autoscale.retire", "autoscale.release"});
  CHECK(dask.state()["retired"] == json::array({"tcp://127.0.0.1:19500"}));
  json w = cli.ok({"worker", "show", "box1", "--json"}).json();
  CHECK(w["control"] == "manual");
  CHECK(w["state"] == "online"); // our own box: nothing to hibernate
  // Its remote loop was stopped: the one remote job (the gpuctl job never went there) has ended.
  std::vector<std::filesystem::path> jobs;
  for (const auto& e : std::filesystem::directory_iterator(sshd.home() + "/.gpuctl/jobs")) {
    jobs.push_back(e.path());
  }
  REQUIRE(jobs.size() == 1);
  const long pid = std::stol(read_file((jobs[0] / "pid").string()));
  bool gone = false;
  for (int i = 0; i < 100 && !gone; ++i) {
    gone = ::kill(static_cast<pid_t>(-pid), 0) != 0; // its process group is empty
    if (!gone) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  CHECK(gone);
}
