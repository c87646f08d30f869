// SPDX-License-Identifier: MIT
// The Dask HTTP client against fake_dask replaying the answers real Dask 2022.12.1 gave
// (../shared/specs/recorded/dask, spec dask-http.md): each recorded exchange is pinned on its route
// verbatim (status, Content-Type, body) and the client's reading of it is checked. Then the
// fake's own cluster model: API off, a dead scheduler, retire of unknown / foreign addresses.
#include "gpuctl/net/caller.hpp"
#include "gpuctl/providers/dask/client.hpp"
#include "support/fake_server.hpp"

#include <doctest/doctest.h>

#include <fstream>
#include <sstream>

using namespace gpuctl;
using nlohmann::json;
namespace dask = gpuctl::providers::dask;

namespace {

const std::string k_recorded = GPUCTL_SHARED_DIR "/specs/recorded/dask/";

std::string
recorded(const std::string& file)
{
  std::ifstream in(k_recorded + file);
  REQUIRE_MESSAGE(in.good(), "missing recorded answer " << k_recorded << file
                                                        << " (../shared beside the checkout)");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// The recorded exchange that answered with `file` (exchanges.json).
json
exchange(const std::string& file)
{
  static const json all = json::parse(recorded("exchanges.json"));
  for (const auto& e : all["exchanges"]) {
    if (e["file"] == file) {
      return e;
    }
  }
  FAIL("no exchange answered with " << file);
  return {};
}

struct Rig {
  test::FakeServer fake{"dask"};
  std::unique_ptr<net::Transport> transport = net::make_curl_transport();
  net::RecordingSleeper sleeper;
  FixedClock clock{Instant(std::chrono::seconds(1796025600))};
  net::Caller caller{*transport, sleeper, clock, net::RetryPolicy{}, net::Timeouts{2, 5}};
  dask::Client client{caller, fake.url()};

  /// Serves the recorded answer `file` on the route it was recorded for.
  void pin(const std::string& file)
  {
    json e = exchange(file);
    fake.control("pin", {{"method", e["method"]},
                         {"path", e["path"]},
                         {"status", e["status"]},
                         {"content_type", e["content_type"]},
                         {"body", recorded(file)}});
  }
};

} // namespace

TEST_CASE("dask get_workers: names as strings (numeric and default names too) and contact addresses")
{
  Rig rig;
  rig.pin("get_workers-with-gpu-worker.json");
  auto w = rig.client.get_workers();
  CHECK(w.num_workers == 3);
  REQUIRE(w.workers.size() == 3);
  CHECK(w.workers[0].name == "gpuctl-gpu1");
  CHECK(w.workers[0].address == "tcp://127.0.0.1:19001");

  Rig rig2;
  rig2.pin("get_workers-numeric-and-default-names.json");
  auto n = rig2.client.get_workers();
  json raw = json::parse(recorded("get_workers-numeric-and-default-names.json"));
  REQUIRE(n.workers.size() == raw["workers"].size());
  bool numeric = false;
  for (std::size_t i = 0; i < n.workers.size(); ++i) {
    const auto& name = raw["workers"][i]["name"];
    CHECK(n.workers[i].name == (name.is_string() ? name.get<std::string>() : name.dump()));
    numeric = numeric || name.is_number();
  }
  CHECK(numeric); // the recorded answer does hold an integer name

  Rig rig3;
  rig3.pin("get_workers-no-workers.json");
  CHECK(rig3.client.get_workers().workers.empty());
}

TEST_CASE("dask adaptive_target: every recorded answer, including 1 for 100 unrunnable GPU tasks")
{
  for (const char* file :
       {"adaptive_target-no-workers.json", "adaptive_target-gpu-tasks-no-workers.json",
        "adaptive_target-100-gpu-tasks-no-workers.json",
        "adaptive_target-100-plain-tasks-no-workers.json",
        "adaptive_target-gpu-tasks-two-cpu-workers.json",
        "adaptive_target-20-gpu-tasks-one-gpu-worker-after-3s.json"}) {
    CAPTURE(file);
    Rig rig;
    rig.pin(file);
    CHECK(rig.client.adaptive_target() == json::parse(recorded(file))["workers"].get<int>());
  }
  Rig rig;
  rig.pin("adaptive_target-100-gpu-tasks-no-workers.json");
  CHECK(rig.client.adaptive_target() == 1);
}

TEST_CASE("dask counts: unrunnable GPU tasks from /json/counts.json (charset in Content-Type)")
{
  Rig rig;
  rig.pin("json-counts-gpu-tasks-two-cpu-workers.json");
  auto c = rig.client.counts();
  CHECK(c.unrunnable == 5);
  CHECK(c.workers == 2);
  Rig rig2;
  rig2.pin("json-counts-gpu-tasks-running.json");
  CHECK(rig2.client.counts().unrunnable == 0);
}

TEST_CASE("dask activity: a worker executing a task is busy, one holding only memory is idle")
{
  Rig rig;
  rig.pin("json-identity-gpu2-busy.json");
  auto a = rig.client.activity();
  REQUIRE(a);
  REQUIRE(a->count("tcp://127.0.0.1:19002"));
  CHECK_FALSE(a->at("tcp://127.0.0.1:19002").idle);
  CHECK(a->at("tcp://127.0.0.1:19002").executing == 1);
  CHECK(a->at("tcp://127.0.0.1:19002").resources.at("GPU") == 1.0);
  REQUIRE(a->count("tcp://127.0.0.1:19014"));
  CHECK(a->at("tcp://127.0.0.1:19014").idle);

  Rig rig2;
  rig2.fake.control("cluster", {{"identity_500", true}});
  CHECK_FALSE(rig2.client.activity().has_value());
}

TEST_CASE("dask retire: the answer's keys are what Dask retired, {} retires nothing")
{
  Rig rig;
  rig.pin("retire_workers-by-address.json");
  auto r = rig.client.retire({"tcp://127.0.0.1:19011"});
  CHECK(r == std::set<std::string>{"tcp://127.0.0.1:19011"});
  auto sent = rig.fake.log().back();
  CHECK(json::parse(sent["body"].get<std::string>()) ==
        json{{"workers", {"tcp://127.0.0.1:19011"}}});

  for (const char* file : {"retire_workers-unknown-address.json", "retire_workers-empty-object.json",
                           "retire_workers-only-worker-holding-data.json"}) {
    CAPTURE(file);
    Rig r2;
    r2.pin(file);
    CHECK(r2.client.retire({"tcp://127.0.0.1:19999"}).empty());
  }
  CHECK_THROWS_AS(rig.client.retire({}), Error);
}

TEST_CASE("dask retire: a 500 is an unknown outcome, not a confirmation (and is never re-sent)")
{
  Rig rig;
  rig.pin("retire_workers-malformed-json.json");
  try {
    rig.client.retire({"tcp://127.0.0.1:19011"});
    FAIL("no error");
  } catch (const net::CallError& e) {
    CHECK(e.maybe_delivered());
    CHECK(std::string(e.what()).find("unknown") != std::string::npos);
  }
  int posts = 0;
  for (const auto& c : rig.fake.log()) {
    posts += c["method"] == "POST" ? 1 : 0;
  }
  CHECK(posts == 1);

  // The newer-version bug (spec §6): retired, then 500. Still unconfirmed for gpuctl.
  Rig rig2;
  rig2.fake.control("cluster", {{"retire_500", true},
                                {"workers", {{{"name", "gpuctl-a"}, {"address", "tcp://127.0.0.1:19001"}}}}});
  CHECK_THROWS_AS(rig2.client.retire({"tcp://127.0.0.1:19001"}), net::CallError);
  CHECK(rig2.fake.state()["retired"].size() == 1);
}

TEST_CASE("dask API off: 404 on /api/v1 with /health 200 says how to turn it on")
{
  Rig rig;
  rig.pin("noapi-get_workers.txt");
  rig.pin("noapi-health.txt");
  try {
    rig.client.get_workers();
    FAIL("no error");
  } catch (const dask::Unavailable& e) {
    CHECK(e.api_off());
    CHECK(e.exit_code() == 3);
    CHECK(std::string(e.what()).find("DASK_DISTRIBUTED__SCHEDULER__HTTP__ROUTES") != std::string::npos);
    CHECK(std::string(e.what()).find("distributed.http.scheduler.api") != std::string::npos);
  }
  Rig rig2;
  rig2.fake.control("cluster", {{"api", false}});
  CHECK_THROWS_AS(rig2.client.adaptive_target(), dask::Unavailable);
  CHECK_THROWS_AS(rig2.client.retire({"tcp://127.0.0.1:1"}), dask::Unavailable);
}

TEST_CASE("dask scheduler down: connection refused is 'unreachable', not an empty cluster")
{
  std::string url;
  {
    test::FakeServer gone("dask");
    url = gone.url();
  } // stopped: nothing listens there now
  auto transport = net::make_curl_transport();
  net::RecordingSleeper sleeper;
  FixedClock clock{Instant(std::chrono::seconds(1796025600))};
  net::Caller caller{*transport, sleeper, clock, net::RetryPolicy{}, net::Timeouts{2, 5}};
  dask::Client client{caller, url};
  try {
    client.get_workers();
    FAIL("no error");
  } catch (const dask::Unavailable& e) {
    CHECK_FALSE(e.api_off());
    CHECK(std::string(e.what()).find("unreachable") != std::string::npos);
  }
  CHECK(sleeper.waits.size() == 4); // retried like any read: [net] retries
}
