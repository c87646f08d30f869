// SPDX-License-Identifier: MIT
// `gpuctl autoscale` with real Dask (issue 11, acceptance 2): Debian's python3-distributed runs a
// scheduler on loopback with the HTTP API on; fake_vast in exec mode makes each rented instance a
// local process that runs the onstart gpuctl gave it, i.e. a real `dask worker` announcing GPU=1 on
// its "opened" port. A client submits GPU tasks; gpuctl rents workers for them; when the tasks are
// done and the demand stays low, gpuctl retires its workers through Dask and hibernates exactly
// those; more tasks wake the hibernated machine instead of renting. Every result is gathered.
// Bounded: each phase polls with a deadline; the whole case stays under 60 s.
#include "support/fake_server.hpp"
#include "support/support.hpp"

#include <doctest/doctest.h>
#include <httplib.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

using namespace gpuctl::test;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

int
free_port()
{
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0);
  ::close(fd);
  return ntohs(a.sin_port);
}

/// A process in its own session (killed with its whole group at scope exit).
class Proc {
public:
  Proc(const std::vector<std::string>& argv, const std::map<std::string, std::string>& extra_env,
       const std::string& log)
  {
    std::vector<std::string> env;
    for (char** e = environ; *e; ++e) {
      env.emplace_back(*e);
    }
    for (const auto& [k, v] : extra_env) {
      env.push_back(k + "=" + v);
    }
    std::vector<char*> envp, args;
    for (auto& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);
    std::vector<std::string> a = argv;
    for (auto& s : a) args.push_back(s.data());
    args.push_back(nullptr);
    m_pid = ::fork();
    REQUIRE(m_pid >= 0);
    if (m_pid == 0) {
      ::setsid();
      int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      ::execve(args[0], args.data(), envp.data());
      ::_exit(127);
    }
  }
  ~Proc()
  {
    if (m_pid > 0) {
      ::kill(-m_pid, SIGTERM);
      for (int i = 0; i < 50 && ::waitpid(m_pid, nullptr, WNOHANG) == 0; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
      ::kill(-m_pid, SIGKILL);
      ::waitpid(m_pid, nullptr, 0);
    }
  }
  /// Exit status once it ended, nullopt while it runs.
  std::optional<int> exited()
  {
    int st = 0;
    if (m_pid > 0 && ::waitpid(m_pid, &st, WNOHANG) == m_pid) {
      m_pid = -1;
      m_status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    }
    return m_pid > 0 ? std::nullopt : std::optional<int>(m_status);
  }

private:
  pid_t m_pid = -1;
  int m_status = 0;
};

/// Polls `pred` every `every` until it holds or `limit` passed; true when it held.
bool
until(const std::function<bool()>& pred, std::chrono::seconds limit,
      std::chrono::milliseconds every = std::chrono::milliseconds(500))
{
  auto end = Clock::now() + limit;
  while (Clock::now() < end) {
    if (pred()) {
      return true;
    }
    std::this_thread::sleep_for(every);
  }
  return pred();
}

/// A Dask client (Debian's system python3: the one python3-distributed is installed for) that
/// submits `n` GPU tasks, gathers them and prints "RESULT <sum> <count>".
std::string
client_script(int port, int n, int offset)
{
  return "import sys\n"
         "from distributed import Client\n"
         "c = Client('tcp://127.0.0.1:" +
         std::to_string(port) +
         "', timeout=30)\n"
         "def f(x):\n"
         "    import time\n"
         "    time.sleep(0.3)\n"
         "    return x * x\n"
         "futs = [c.submit(f, i, resources={'GPU': 1}, pure=False) for i in range(" +
         std::to_string(offset) + ", " + std::to_string(offset + n) +
         ")]\n"
         "print('SUBMITTED', flush=True)\n"
         "res = c.gather(futs)\n"
         "print('RESULT', sum(res), len(res), flush=True)\n"
         "c.close()\n";
}

} // namespace

TEST_CASE("autoscale with real Dask: GPU tasks rent workers, every result comes back, idle workers are retired through Dask and hibernated, new tasks wake them")
{
  REQUIRE_MESSAGE(std::filesystem::exists("/usr/bin/dask"),
                  "python3-distributed is not installed (scripts/setup installs it)");
  Cli cli;
  const std::string dir = cli.dir().path();
  const int sched_port = free_port();
  const int http_port = free_port();
  // The scheduler as examples/dask/scheduler.sh starts it (API on, HTTP on loopback).
  Proc scheduler({"/bin/sh", std::string(GPUCTL_SOURCE_DIR) + "/examples/dask/scheduler.sh",
                  std::to_string(sched_port), std::to_string(http_port)},
                 {}, dir + "/scheduler.log");
  httplib::Client http("127.0.0.1", http_port);
  REQUIRE_MESSAGE(until([&] {
                    auto r = http.Get("/health");
                    return r && r->status == 200;
                  },
                        std::chrono::seconds(20), std::chrono::milliseconds(200)),
                  "the Dask scheduler did not start: " << read_file(dir + "/scheduler.log"));

  FakeServer vast("vast");
  std::filesystem::create_directories(dir + "/machines");
  vast.control("exec", {{"enabled", true}, {"dir", dir + "/machines"}, {"public_ip", "127.0.0.1"}});
  cli.env["GPUCTL_VAST_URL"] = vast.url();
  cli.env["VAST_API_KEY"] = "TESTKEY";
  cli.env["GPUCTL_TEST_SLEEP"] = "record";
  cli.env.erase("GPUCTL_NOW"); // Dask runs in real time: so does gpuctl here
  write_file(dir + "/config.toml",
             "[providers.vast]\npace = \"0s\"\n[net]\ntimeout = \"30s\"\nretries = 1\n"
             "[autoscale]\ndask_url = \"http://127.0.0.1:" + std::to_string(http_port) +
                 "\"\nscheduler = \"tcp://127.0.0.1:" + std::to_string(sched_port) +
                 "\"\nmax = 2\nstep_up = 2\nscale_down_after = \"3s\"\nboot_timeout = \"2m\"\n");
  cli.env["GPUCTL_CONFIG"] = dir + "/config.toml";
  cli.ok({"account", "add", "lab", "--provider", "vast"});

  std::string last; // the last tick's output, for failure messages
  auto tick = [&] {
    auto r = cli.run({"autoscale", "--once"});
    last = r.out + r.err;
    INFO("autoscale: " << last);
    CHECK(r.code == 0);
  };
  auto dask_workers = [&] {
    auto r = http.Get("/api/v1/get_workers");
    REQUIRE(r);
    return json::parse(r->body)["num_workers"].get<int>();
  };
  auto workers_in = [&](const std::string& state) {
    int n = 0;
    for (const auto& w : cli.ok({"worker", "list", "--json"}).json()) {
      n += w["state"] == state ? 1 : 0;
    }
    return n;
  };
  auto count_events = [&](const std::string& type) {
    return cli.ok({"events", "--type", type, "--json"}).json().size();
  };
  const auto started = Clock::now();

  // Round 1: 8 GPU tasks, no worker: gpuctl rents, the workers join, every result comes back.
  write_file(dir + "/client1.py", client_script(sched_port, 8, 0));
  Proc client1({"/usr/bin/python3", dir + "/client1.py"}, {}, dir + "/client1.log");
  REQUIRE(until([&] { return read_file(dir + "/client1.log").find("SUBMITTED") != std::string::npos; },
                std::chrono::seconds(20)));
  bool done = until(
      [&] {
        tick();
        return client1.exited().has_value();
      },
      std::chrono::seconds(25), std::chrono::milliseconds(700));
  INFO("client: " << read_file(dir + "/client1.log"));
  REQUIRE(done);
  CHECK(client1.exited() == 0);
  CHECK(read_file(dir + "/client1.log").find("RESULT 140 8") != std::string::npos); // Σ i², i < 8
  CHECK(count_events("autoscale.start") >= 1);
  CHECK(count_events("autoscale.joined") >= 1);
  const auto rented = vast.state()["instances"].size();
  CHECK(rented >= 1);
  CHECK(rented <= 2); // --max

  // The demand is gone: after scale_down_after gpuctl retires its workers and hibernates them.
  bool down = until(
      [&] {
        tick();
        return workers_in("hibernated") == static_cast<int>(rented);
      },
      std::chrono::seconds(15), std::chrono::milliseconds(700));
  INFO("last tick: " << last << "\nevents: " << cli.ok({"events"}).out);
  REQUIRE(down);
  CHECK(count_events("autoscale.retire") == rented);
  CHECK(count_events("hibernated") == rented);
  CHECK(until([&] { return dask_workers() == 0; }, std::chrono::seconds(5)));
  for (const auto& i : vast.state()["instances"]) {
    CHECK(i["actual_status"] == "stopped");
  }

  // Round 2: more GPU tasks wake a hibernated machine; nothing new is rented.
  write_file(dir + "/client2.py", client_script(sched_port, 3, 10));
  Proc client2({"/usr/bin/python3", dir + "/client2.py"}, {}, dir + "/client2.log");
  bool done2 = until(
      [&] {
        tick();
        return client2.exited().has_value();
      },
      std::chrono::seconds(20), std::chrono::milliseconds(700));
  INFO("client 2: " << read_file(dir + "/client2.log"));
  REQUIRE(done2);
  CHECK(read_file(dir + "/client2.log").find("RESULT 365 3") != std::string::npos); // 100+121+144
  CHECK(vast.state()["instances"].size() == rented);
  CHECK(count_events("autoscale.start") == rented + 1);
  CHECK(Clock::now() - started < std::chrono::seconds(60));
}
