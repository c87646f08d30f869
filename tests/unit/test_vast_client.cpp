// SPDX-License-Identifier: MIT
// The vast.ai client against fake_vast (specs/vast-api.md), call by call and field by field, and
// every call under every fault: 429 with and without Retry-After, 500 then success, timeout,
// connection reset, malformed JSON, 401.
#include "gpuctl/net/caller.hpp"
#include "gpuctl/providers/vast/client.hpp"
#include "support/fake_server.hpp"

#include <doctest/doctest.h>

#include <functional>

using namespace gpuctl;
using nlohmann::json;
namespace vast = gpuctl::providers::vast;

namespace {

struct Rig {
  test::FakeServer fake{"vast"};
  std::unique_ptr<net::Transport> transport = net::make_curl_transport();
  net::RecordingSleeper sleeper;
  FixedClock clock{Instant(std::chrono::seconds(1796025600))};
  net::Caller caller;
  vast::Client client;
  explicit Rig(const std::string& key = "TESTKEY")
      : caller(*transport, sleeper, clock, net::RetryPolicy{},
               net::Timeouts{2, 0.6}),
        client(caller, fake.url(), key, net::Millis(0))
  {
  }
  /// Log entries of provider calls (control calls are not logged).
  json calls() { return fake.log(); }
};

const json&
last_call(const json& log)
{
  REQUIRE_FALSE(log.empty());
  return log.back();
}

void
check_auth_redacted(const json& entry)
{
  CHECK(entry["auth"] == "bearer");
  CHECK(entry["auth_ok"] == true);
  CHECK(entry["headers"]["Authorization"] == "Bearer [REDACTED]");
  CHECK(entry.dump().find("TESTKEY") == std::string::npos);
}

} // namespace

TEST_CASE("vast search offers: POST /api/v0/bundles/ with the CLI's defaults and our filters")
{
  Rig rig;
  vast::OfferQuery q;
  q.gpu = "RTX_4090";
  q.num_gpus = 1;
  q.max_price = 0.6;
  q.regions = {"US", "CA"};
  q.min_reliability = 0.95;
  q.order = "price,-reliability";
  q.limit = 5;
  q.disk_gb = 32;
  auto offers = rig.client.search_offers(q);
  auto e = last_call(rig.calls());
  CHECK(e["method"] == "POST");
  CHECK(e["path"] == "/api/v0/bundles/");
  CHECK(e["query"] == "");
  CHECK(e["headers"]["Content-Type"] == "application/json");
  check_auth_redacted(e);
  json body = json::parse(e["body"].get<std::string>());
  CHECK(body["verified"] == json{{"eq", true}});
  CHECK(body["external"] == json{{"eq", false}});
  CHECK(body["rentable"] == json{{"eq", true}});
  CHECK(body["gpu_name"] == json{{"eq", "RTX 4090"}});
  CHECK(body["num_gpus"] == json{{"eq", 1}});
  CHECK(body["dph_total"] == json{{"lte", 0.6}});
  CHECK(body["geolocation"] == json{{"in", {"US", "CA"}}});
  CHECK(body["reliability"] == json{{"gte", 0.95}});
  CHECK(body["order"] == json::array({{"dph_total", "asc"}, {"reliability", "desc"}}));
  CHECK(body["type"] == "on-demand");
  CHECK(body["limit"] == 5);
  CHECK(body["allocated_storage"] == 32.0);
  REQUIRE_FALSE(offers.empty());
  CHECK(offers.size() <= 5);
  for (size_t i = 0; i < offers.size(); ++i) {
    CHECK(offers[i].gpu == "RTX 4090");
    CHECK(offers[i].num_gpus == 1);
    REQUIRE(offers[i].price_usd_per_hour);
    CHECK(*offers[i].price_usd_per_hour <= 0.6);
    CHECK(*offers[i].reliability >= 0.95);
    std::string cc = offers[i].region.substr(offers[i].region.size() - 2);
    CHECK((cc == "US" || cc == "CA"));
    REQUIRE(offers[i].gpu_ram_gb);
    CHECK(*offers[i].gpu_ram_gb > 1); // MB converted to GB
    if (i > 0) {
      CHECK(*offers[i - 1].price_usd_per_hour <= *offers[i].price_usd_per_hour);
    }
  }
  // The answer's own numbers, field by field, for the first offer.
  json answer = json::parse(e["response_body"].get<std::string>());
  const auto& raw = answer["offers"][0];
  CHECK(offers[0].id == raw["id"].get<std::int64_t>());
  CHECK(*offers[0].price_usd_per_hour == doctest::Approx(raw["dph_total"].get<double>()));
  CHECK(*offers[0].gpu_ram_gb == doctest::Approx(raw["gpu_ram"].get<double>() / 1000));
  CHECK(offers[0].region == raw["geolocation"].get<std::string>());
  CHECK(*offers[0].cuda == doctest::Approx(raw["cuda_max_good"].get<double>()));
  CHECK(*offers[0].disk_gb == doctest::Approx(raw["disk_space"].get<double>()));
  CHECK(*offers[0].inet_down_mbps == doctest::Approx(raw["inet_down"].get<double>()));
}

TEST_CASE("vast create, list, show, label, stop, start, destroy: methods, paths, bodies, answers")
{
  Rig rig;
  auto offers = rig.client.search_offers({});
  REQUIRE_FALSE(offers.empty());
  vast::InstanceSpec spec;
  spec.image = "pytorch/pytorch:latest";
  spec.disk_gb = 32;
  spec.onstart = "echo hi\n";
  spec.env = {{"TZ", "UTC"}};
  spec.label = "gpuctl:7:1";
  rig.fake.clear_log();
  auto id = rig.client.create_instance(offers[0].id, spec);
  {
    auto e = last_call(rig.calls());
    CHECK(e["method"] == "PUT");
    CHECK(e["path"] == "/api/v0/asks/" + std::to_string(offers[0].id) + "/");
    check_auth_redacted(e);
    json b = json::parse(e["body"].get<std::string>());
    CHECK(b["client_id"] == "me");
    CHECK(b["image"] == "pytorch/pytorch:latest");
    CHECK(b["disk"] == 32.0);
    CHECK(b["label"] == "gpuctl:7:1");
    CHECK(b["onstart"] == "echo hi\n");
    CHECK(b["env"] == json{{"TZ", "UTC"}});
    CHECK(b["cancel_unavail"] == true);
    CHECK(b["price"].is_null());
    CHECK(b["runtype"] == "ssh_direc ssh_proxy");
    json a = json::parse(e["response_body"].get<std::string>());
    CHECK(a["success"] == true);
    CHECK(a["new_contract"] == id);
  }
  // The offer is taken now: a second create on it is a conflict (410/404), not a provider error.
  try {
    rig.client.create_instance(offers[0].id, spec);
    FAIL("expected a conflict");
  } catch (const Error& err) {
    CHECK(err.exit_code() == 4);
    CHECK(std::string(err.what()).find("no longer available") != std::string::npos);
  }

  rig.fake.clear_log();
  auto listing = rig.client.list_instances(json{{"label", {{"eq", "gpuctl:7:1"}}}});
  {
    auto e = last_call(rig.calls());
    CHECK(e["method"] == "GET");
    CHECK(e["path"] == "/api/v1/instances/");
    CHECK(json::parse(e["params"]["select_filters"].get<std::string>()) ==
          json{{"label", {{"eq", "gpuctl:7:1"}}}});
    CHECK(json::parse(e["params"]["order_by"].get<std::string>()) ==
          json::array({{{"col", "id"}, {"dir", "asc"}}}));
    CHECK(e["params"]["limit"] == "25");
    CHECK_FALSE(e["headers"].contains("Content-Type"));
    CHECK(e["body"] == "");
    check_auth_redacted(e);
  }
  REQUIRE(listing.instances.size() == 1);
  const auto& inst = listing.instances[0];
  CHECK(inst.id == id);
  CHECK(inst.label == "gpuctl:7:1");
  CHECK(inst.image == "pytorch/pytorch:latest");
  CHECK(inst.gpu == offers[0].gpu);
  CHECK(vast::worker_state(inst) == "starting"); // just created: provisioning

  rig.fake.control("clock", {{"advance", 120}});
  auto shown = rig.client.show_instance(id);
  {
    auto e = last_call(rig.calls());
    CHECK(e["method"] == "GET");
    CHECK(e["path"] == "/api/v0/instances/" + std::to_string(id) + "/");
    CHECK(e["query"] == "owner=me");
  }
  REQUIRE(shown);
  CHECK(vast::worker_state(*shown) == "online");

  rig.client.set_label(id, "gpuctl:7:2");
  CHECK(json::parse(last_call(rig.calls())["body"].get<std::string>()) == json{{"label", "gpuctl:7:2"}});
  rig.client.set_state(id, false);
  {
    auto e = last_call(rig.calls());
    CHECK(e["method"] == "PUT");
    CHECK(json::parse(e["body"].get<std::string>()) == json{{"state", "stopped"}});
  }
  CHECK(vast::worker_state(*rig.client.show_instance(id)) == "offline");
  rig.client.set_state(id, true);
  CHECK(json::parse(last_call(rig.calls())["body"].get<std::string>()) == json{{"state", "running"}});

  rig.client.destroy_instance(id);
  {
    auto e = last_call(rig.calls());
    CHECK(e["method"] == "DELETE");
    CHECK(e["path"] == "/api/v0/instances/" + std::to_string(id) + "/");
    CHECK(e["body"] == "{}");
  }
  CHECK_FALSE(rig.client.show_instance(id));
  CHECK_NOTHROW(rig.client.destroy_instance(id)); // already gone counts as destroyed
  CHECK(rig.client.list_instances().instances.empty());
}

TEST_CASE("vast listing follows next_token over 25-row pages and never calls the v0 list")
{
  Rig rig;
  rig.fake.control("instances", {{"count", 60}, {"label", "bulk"}});
  auto listing = rig.client.list_instances();
  CHECK(listing.instances.size() == 60);
  CHECK(listing.pages == 3);
  auto log = rig.calls();
  REQUIRE(log.size() == 3);
  CHECK_FALSE(log[0]["params"].contains("after_token"));
  CHECK(log[1]["params"].contains("after_token"));
  for (const auto& e : log) {
    CHECK(e["path"] == "/api/v1/instances/");
  }
}

TEST_CASE("a start while the GPUs are rented elsewhere shows as scheduling")
{
  Rig rig;
  auto ids = rig.fake.control("instances", {{"count", 1}, {"label", "s"}})["ids"];
  std::int64_t id = ids[0];
  rig.client.set_state(id, false);
  rig.fake.control("steal", {{"id", id}});
  rig.client.set_state(id, true);
  rig.fake.control("clock", {{"advance", 120}});
  auto i = rig.client.show_instance(id);
  REQUIRE(i);
  CHECK(vast::scheduling(*i));
  CHECK(vast::worker_state(*i) == "starting");
}

TEST_CASE("vast error bodies: 401 key refused, 404 auth_error, 400 message, 200 success:false")
{
  {
    Rig rig("WRONGKEY");
    try {
      rig.client.list_instances();
      FAIL("expected an error");
    } catch (const Error& e) {
      std::string m = e.what();
      CHECK(e.exit_code() == 3);
      CHECK(m.find("vast.ai list instances: the API key was refused (HTTP 401: Invalid user key)") == 0);
      CHECK(m.find("WRONGKEY") == std::string::npos);
    }
    CHECK(rig.calls()[0]["auth_ok"] == false);
  }
  Rig rig;
  rig.fake.fault("GET /api/v1/instances/", "status", 1,
                 {{"status", 404}, {"body", R"({"success": false, "error": "auth_error", "msg": "Invalid user key"})"}});
  CHECK_THROWS_WITH_AS(rig.client.list_instances(),
                       doctest::Contains("the API key was refused (HTTP 404"), Error);
  rig.fake.fault("PUT /api/v0/instances/*/", "status", 1,
                 {{"status", 400}, {"body", R"({"success": false, "error": "missing_billing", "msg": "add credit"})"}});
  CHECK_THROWS_WITH_AS(rig.client.set_state(4242, true),
                       doctest::Contains("vast.ai start instance: HTTP 400: add credit"), Error);
  rig.fake.fault("PUT /api/v0/instances/*/", "status", 1,
                 {{"status", 200}, {"body", R"({"success": false, "msg": "cannot start now"})"}});
  CHECK_THROWS_WITH_AS(rig.client.set_state(4242, true),
                       doctest::Contains("refused: cannot start now"), Error);
  rig.fake.fault("GET /api/v0/instances/*/", "status", 1,
                 {{"status", 400}, {"body", R"({"success": false, "error": "invalid_args", "msg": "bad id"})"}});
  CHECK_FALSE(rig.client.show_instance(4242)); // 400 on show = gone (§5)
}

namespace {

/// One client call, its fault route, and whether it may be repeated after an unknown outcome.
struct CallCase {
  const char* name;
  const char* route;
  bool retry_safe;
  std::function<void(Rig&, std::int64_t)> run;
};

std::vector<CallCase>
call_cases()
{
  return {
      {"search", "POST /api/v0/bundles/", true, [](Rig& r, std::int64_t) { r.client.search_offers({}); }},
      {"create", "PUT /api/v0/asks/*/", false,
       [](Rig& r, std::int64_t) {
         vast::InstanceSpec s;
         s.image = "img";
         s.label = "gpuctl:1:1";
         r.client.create_instance(r.client.search_offers({})[0].id, s);
       }},
      {"list", "GET /api/v1/instances/", true, [](Rig& r, std::int64_t) { r.client.list_instances(); }},
      {"show", "GET /api/v0/instances/*/", true, [](Rig& r, std::int64_t id) { r.client.show_instance(id); }},
      {"start", "PUT /api/v0/instances/*/", true, [](Rig& r, std::int64_t id) { r.client.set_state(id, true); }},
      {"stop", "PUT /api/v0/instances/*/", true, [](Rig& r, std::int64_t id) { r.client.set_state(id, false); }},
      {"label", "PUT /api/v0/instances/*/", true, [](Rig& r, std::int64_t id) { r.client.set_label(id, "x"); }},
      {"destroy", "DELETE /api/v0/instances/*/", true, [](Rig& r, std::int64_t id) { r.client.destroy_instance(id); }},
  };
}

std::int64_t
one_instance(Rig& rig)
{
  return rig.fake.control("instances", {{"count", 1}, {"label", "f"}})["ids"][0];
}

} // namespace

TEST_CASE("every vast call: 429 with Retry-After waits exactly that, 429 without backs off")
{
  for (const auto& c : call_cases()) {
    CAPTURE(std::string(c.name));
    Rig rig;
    auto id = one_instance(rig);
    rig.fake.fault(c.route, "status", 1, {{"status", 429}, {"retry_after", "3"}});
    CHECK_NOTHROW(c.run(rig, id));
    REQUIRE(rig.sleeper.waits.size() == 1);
    CHECK(rig.sleeper.waits[0] == net::Millis(3000));

    Rig rig2;
    id = one_instance(rig2);
    rig2.fake.fault(c.route, "status", 2,
                    {{"status", 429}, {"body", "API requests too frequent endpoint threshold=2.0"}});
    CHECK_NOTHROW(c.run(rig2, id));
    REQUIRE(rig2.sleeper.waits.size() == 2);
    CHECK(rig2.sleeper.waits[0] >= net::Millis(1000)); // max(threshold, 1 s) with jitter
    CHECK(rig2.sleeper.waits[1] >= net::Millis(2000)); // doubled
  }
}

TEST_CASE("every vast call: 500, timeout, reset and malformed JSON are retried only when safe")
{
  for (const char* mode : {"500", "delay", "reset", "malformed", "truncate"}) {
    for (const auto& c : call_cases()) {
      CAPTURE(std::string(c.name));
      CAPTURE(std::string(mode));
      Rig rig;
      auto id = one_instance(rig);
      if (std::string(mode) == "500") {
        rig.fake.fault(c.route, "status", 1, {{"status", 500}});
      } else if (std::string(mode) == "delay") {
        rig.fake.fault(c.route, "delay", 1, {{"delay_ms", 1500}});
      } else {
        rig.fake.fault(c.route, mode, 1);
      }
      if (c.retry_safe) {
        CHECK_NOTHROW(c.run(rig, id));
        CHECK(rig.sleeper.waits.size() == 1);
      } else {
        try {
          c.run(rig, id);
          FAIL("a create must not be repeated blindly");
        } catch (const net::CallError& e) {
          CHECK(e.maybe_delivered());
          CHECK(std::string(e.what()).find("vast.ai create instance") == 0);
        }
        int creates = 0;
        for (const auto& e : rig.calls()) {
          creates += e["method"] == "PUT" && e["path"].get<std::string>().starts_with("/api/v0/asks/");
        }
        CHECK(creates <= 1); // a delayed create is logged only once the fake answers
        int labelled = 0;
        const json st = rig.fake.state();
        for (const auto& i : st["instances"]) {
          labelled += i.dump().find("gpuctl:1:1") != std::string::npos;
        }
        CHECK(labelled <= 1); // at most the one attempt created something
      }
    }
  }
}

TEST_CASE("every vast call: retries are bounded and the error names provider, call and status")
{
  for (const auto& c : call_cases()) {
    CAPTURE(std::string(c.name));
    Rig rig;
    auto id = one_instance(rig);
    rig.fake.fault(c.route, "status", 10, {{"status", 503}});
    try {
      c.run(rig, id);
      FAIL("expected an error");
    } catch (const Error& e) {
      CHECK(e.exit_code() == 3);
      CHECK(std::string(e.what()).starts_with("vast.ai "));
      CHECK(std::string(e.what()).find("503") != std::string::npos);
    }
    CHECK(rig.sleeper.waits.size() == (c.retry_safe ? 4u : 0u));
  }
}

TEST_CASE("every vast call: 401 fails at once with the key redacted")
{
  for (const auto& c : call_cases()) {
    CAPTURE(std::string(c.name));
    Rig rig;
    auto id = one_instance(rig);
    rig.fake.fault(c.route, "status", 1, {{"status", 401}});
    try {
      c.run(rig, id);
      FAIL("expected an error");
    } catch (const Error& e) {
      CHECK(e.exit_code() == 3);
      CHECK(std::string(e.what()).find("the API key was refused (HTTP 401") != std::string::npos);
      CHECK(std::string(e.what()).find("TESTKEY") == std::string::npos);
    }
    CHECK(rig.sleeper.waits.empty());
  }
}
