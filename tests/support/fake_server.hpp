// SPDX-License-Identifier: MIT
// Starts a fake provider server (tests/fakes) for one test and talks to its control API.
#pragma once
#include <nlohmann/json.hpp>

#include <string>

namespace gpuctl::test {

/// One fake server process on a free loopback port, stopped at scope exit.
class FakeServer {
public:
  /// `which` is "vast", "kaggle" or "dask"; waits for its `listening` line (fails the test otherwise).
  explicit FakeServer(const std::string& which);
  ~FakeServer();
  FakeServer(const FakeServer&) = delete;
  FakeServer& operator=(const FakeServer&) = delete;

  /// http://127.0.0.1:PORT
  const std::string& url() const { return m_url; }
  int port() const { return m_port; }

  /// POST /__control/<what> with `body`; returns the answer's JSON (fails the test on non-200).
  nlohmann::json control(const std::string& what, const nlohmann::json& body = nlohmann::json::object());
  /// Queues a fault: route "METHOD /path", mode, count, and extra fields (status, retry_after, …).
  void fault(const std::string& route, const std::string& mode, int count = 1,
             const nlohmann::json& extra = nlohmann::json::object());
  /// The request log (GET /__control/log).
  nlohmann::json log();
  /// Clears the request log.
  void clear_log();
  /// GET /__control/state.
  nlohmann::json state();

private:
  int m_pid = -1;
  int m_port = 0;
  std::string m_url;
};

} // namespace gpuctl::test
