// SPDX-License-Identifier: MIT
// The Dask worker command gpuctl starts on its machines (autoscale/worker_command.hpp, spec
// dask-http.md §4.1): its flags, its quoting, the retry loop's exit rule (run for real with a fake
// `dask` on PATH), and a clean bill from sh -n and shellcheck.
#include "gpuctl/autoscale/worker_command.hpp"
#include "gpuctl/core/error.hpp"
#include "support/support.hpp"

#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>

using namespace gpuctl;
using namespace gpuctl::autoscale;

TEST_CASE("worker command: vast onstart runs dask worker with gpuctl's name, no nanny, GPU and contact address")
{
  std::string s = vast_onstart("tcp://203.0.113.10:8786", "dask-1", 2);
  CHECK(s.find("dask worker tcp://203.0.113.10:8786 --name gpuctl-dask-1 --no-nanny --resources 'GPU=2'") !=
        std::string::npos);
  CHECK(s.find("--listen-address \"tcp://0.0.0.0:$port\" --contact-address \"tcp://$ip:$port\"") !=
        std::string::npos);
  CHECK(s.find("${VAST_TCP_PORT_70000:?") != std::string::npos);
  CHECK(s.find("--dashboard-address 127.0.0.1:0") != std::string::npos);
  CHECK(s.find(") >>/tmp/gpuctl-dask/worker.log 2>&1 &") != std::string::npos);
  std::string ssh = ssh_script("tcp://[::1]:8786", "box", 1);
  CHECK(ssh.find("--contact-address") == std::string::npos);
  CHECK(ssh.find("--name gpuctl-box") != std::string::npos);
}

TEST_CASE("worker command: scheduler addresses are checked")
{
  for (const char* ok : {"tcp://10.0.0.5:8786", "tls://sched.example.org:8786", "tcp://[::1]:1"}) {
    CHECK_NOTHROW(validate_scheduler_address(ok));
  }
  for (const char* bad : {"10.0.0.5:8786", "tcp://host", "tcp://host:0", "tcp://host:70000",
                          "http://host:8786", "tcp://ho st:1", "tcp://h;rm -rf /:1", "tcp://a..b:1", "tcp://-a:1", "tcp://a.:1", ""}) {
    CAPTURE(bad);
    CHECK_THROWS_AS(validate_scheduler_address(bad), Error);
  }
}

TEST_CASE("worker command: the loop retries a failing worker and ends when it exits 0")
{
  test::TempDir dir;
  // A fake `dask`: fails the first time (scheduler not up yet), exits 0 the second (retired).
  test::write_file(dir / "dask", "#!/bin/sh\necho \"$@\" >> \"$COUNT_FILE\"\n"
                                 "n=$(wc -l < \"$COUNT_FILE\")\n[ \"$n\" -ge 2 ] && exit 0\nexit 1\n");
  std::filesystem::permissions(dir / "dask", std::filesystem::perms::owner_all);
  test::write_file(dir / "sleep", "#!/bin/sh\nexit 0\n"); // no real pauses in a test
  std::filesystem::permissions(dir / "sleep", std::filesystem::perms::owner_all);
  std::string script = ssh_script("tcp://127.0.0.1:8786", "w1", 1);
  test::write_file(dir / "loop.sh", script);
  std::string cmd = "PATH='" + dir.path() + "':/usr/bin:/bin COUNT_FILE='" + (dir / "count") +
                    "' timeout 20 /bin/sh '" + (dir / "loop.sh") + "'";
  CHECK(std::system(cmd.c_str()) == 0);
  std::string calls = test::read_file(dir / "count");
  CHECK(std::count(calls.begin(), calls.end(), '\n') == 2);
  CHECK(calls.find("worker tcp://127.0.0.1:8786 --name gpuctl-w1 --no-nanny") != std::string::npos);
}

TEST_CASE("worker command: sh -n and shellcheck find nothing")
{
  test::TempDir dir;
  for (const auto& [name, text] : {std::pair{"vast.sh", vast_onstart("tcp://10.0.0.5:8786", "dask-1", 1)},
                                   std::pair{"ssh.sh", ssh_script("tcp://10.0.0.5:8786", "box", 1)}}) {
    CAPTURE(name);
    test::write_file(dir / name, "#!/bin/sh\n" + text);
    CHECK(std::system(("/bin/sh -n '" + (dir / name) + "'").c_str()) == 0);
    REQUIRE_MESSAGE(std::system("command -v shellcheck >/dev/null") == 0,
                    "shellcheck is not installed (scripts/setup installs it)");
    CHECK(std::system(("shellcheck -s sh '" + (dir / name) + "'").c_str()) == 0);
  }
}
