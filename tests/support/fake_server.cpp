// SPDX-License-Identifier: MIT
#include "support/fake_server.hpp"

#include <doctest/doctest.h>
#include <httplib.h>

#include <csignal>
#include <cstdio>
#include <sys/wait.h>
#include <unistd.h>

namespace gpuctl::test {

FakeServer::FakeServer(const std::string& which)
{
  std::string binary = which == "vast"   ? GPUCTL_FAKE_VAST
                       : which == "dask" ? GPUCTL_FAKE_DASK
                                         : GPUCTL_FAKE_KAGGLE;
  int fds[2];
  REQUIRE(pipe(fds) == 0);
  m_pid = fork();
  REQUIRE(m_pid >= 0);
  if (m_pid == 0) {
    dup2(fds[1], STDOUT_FILENO);
    close(fds[0]);
    close(fds[1]);
    execl(binary.c_str(), binary.c_str(), "--port", "0", static_cast<char*>(nullptr));
    _exit(127);
  }
  close(fds[1]);
  FILE* in = fdopen(fds[0], "r");
  char line[256] = {};
  bool got = std::fgets(line, sizeof line, in) != nullptr;
  std::fclose(in);
  REQUIRE_MESSAGE(got, "fake " << which << " did not start");
  int port = 0;
  REQUIRE_MESSAGE(std::sscanf(line, "listening 127.0.0.1:%d", &port) == 1, "unexpected line: " << line);
  m_port = port;
  m_url = "http://127.0.0.1:" + std::to_string(port);
}

FakeServer::~FakeServer()
{
  if (m_pid > 0) {
    kill(m_pid, SIGTERM);
    int status = 0;
    for (int i = 0; i < 200 && waitpid(m_pid, &status, WNOHANG) == 0; ++i) {
      usleep(10000);
    }
    if (waitpid(m_pid, &status, WNOHANG) == 0) { // a wedged fake must not hang the suite
      kill(m_pid, SIGKILL);
      waitpid(m_pid, &status, 0);
    }
  }
}

nlohmann::json
FakeServer::control(const std::string& what, const nlohmann::json& body)
{
  httplib::Client c("127.0.0.1", m_port);
  auto r = c.Post(("/__control/" + what).c_str(), body.dump(), "application/json");
  REQUIRE_MESSAGE(r, "control " << what << " failed");
  REQUIRE_MESSAGE(r->status == 200, "control " << what << ": " << r->status << " " << r->body);
  return nlohmann::json::parse(r->body.empty() ? "{}" : r->body, nullptr, false);
}

void
FakeServer::fault(const std::string& route, const std::string& mode, int count,
                  const nlohmann::json& extra)
{
  nlohmann::json f = extra;
  f["route"] = route;
  f["mode"] = mode;
  f["count"] = count;
  control("fault", f);
}

nlohmann::json
FakeServer::log()
{
  httplib::Client c("127.0.0.1", m_port);
  auto r = c.Get("/__control/log");
  REQUIRE(r);
  REQUIRE(r->status == 200);
  return nlohmann::json::parse(r->body);
}

void
FakeServer::clear_log()
{
  httplib::Client c("127.0.0.1", m_port);
  auto r = c.Delete("/__control/log");
  REQUIRE(r);
}

nlohmann::json
FakeServer::state()
{
  httplib::Client c("127.0.0.1", m_port);
  auto r = c.Get("/__control/state");
  REQUIRE(r);
  return nlohmann::json::parse(r->body);
}

} // namespace gpuctl::test
