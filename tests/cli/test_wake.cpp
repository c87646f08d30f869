// SPDX-License-Identifier: MIT
// gpuctl wake against the fake vast.ai server: a plain start, and a start that sits in
// "scheduling" because its GPUs were rented away (spec §6): after start_timeout the next wake
// rents a matching offer, re-points the worker, and leaves the old instance stopped and reported.
#include "support/fake_server.hpp"
#include "support/support.hpp"

#include <doctest/doctest.h>

using namespace gpuctl::test;
using nlohmann::json;

namespace {

constexpr long long k_start = 1796025600; // 2026-11-30T08:00:00Z

std::string
at(long long epoch)
{
  return "@" + std::to_string(epoch);
}

struct Hibernated {
  FakeServer fake{"vast"};
  Cli cli;
  long long instance = 0;
  Hibernated()
  {
    cli.env["GPUCTL_VAST_URL"] = fake.url();
    cli.env["VAST_API_KEY"] = "TESTKEY";
    cli.env["GPUCTL_TEST_SLEEP"] = "record";
    cli.env["GPUCTL_NOW"] = at(k_start);
    write_file(cli.dir() / "config.toml", "[providers.vast]\npace = \"0s\"\n");
    cli.env["GPUCTL_CONFIG"] = cli.dir() / "config.toml";
    cli.ok({"account", "add", "lab", "--provider", "vast"});
    auto offer = cli.ok({"offers", "search", "--gpu", "RTX_4090", "--limit", "1", "--json"}).json();
    cli.ok({"offers", "rent", std::to_string(offer.at(0)["id"].get<long long>()), "--name", "v1",
            "--account", "lab", "--image", "pytorch/pytorch", "--disk", "32", "--env",
            "HF_HOME=/data", "--max-price", "0.6"});
    const json st = fake.state();
    instance = st["instances"][0]["id"];
    set_now(k_start + 3600);
    cli.ok({"hibernate", "now", "v1"});
  }
  void set_now(long long t)
  {
    cli.env["GPUCTL_NOW"] = at(t);
    fake.control("clock", {{"now", t}});
  }
  json worker() { return cli.ok({"worker", "show", "v1", "--json"}).json(); }
};

} // namespace

TEST_CASE("wake starts a hibernated instance and its grace starts again")
{
  Hibernated h;
  CHECK(h.worker()["state"] == "hibernated");
  h.set_now(k_start + 2 * 3600);
  auto r = h.cli.run({"wake", "v1", "--json"});
  CAPTURE(r.err);
  REQUIRE(r.code == 0);
  CHECK(r.json()["rerented"].is_null());
  CHECK(h.worker()["state"] == "starting");
  CHECK(h.worker()["instance_id"] == std::to_string(h.instance));
  auto events = h.cli.ok({"events", "--worker", "v1", "--type", "woke", "--json"}).json();
  CHECK(events.size() == 1);
  // Woken by hand: the sweep does not judge it inside its grace even at 0% GPU.
  h.set_now(k_start + 2 * 3600 + 120);
  h.fake.control("instance/" + std::to_string(h.instance), {{"gpu_util", 0.0}});
  for (int m = 3; m <= 8; ++m) {
    h.set_now(k_start + 2 * 3600 + m * 60);
    h.cli.ok({"hibernate-sweep"});
  }
  std::string state = h.worker()["state"];
  CHECK(state != "hibernated");
  auto again = h.cli.run({"wake", "v1"});
  CHECK(again.code == 4); // already up
}

TEST_CASE("wake of an instance stuck in scheduling re-rents after start_timeout and leaves the old one stopped")
{
  Hibernated h;
  h.fake.control("steal", {{"id", h.instance}}); // its GPUs are rented by someone else
  h.set_now(k_start + 2 * 3600);
  REQUIRE(h.cli.run({"wake", "v1"}).code == 0);
  CHECK(h.worker()["state"] == "starting");
  // Before start_timeout (5m): still waiting, no second instance.
  h.set_now(k_start + 2 * 3600 + 120);
  CHECK(h.cli.run({"wake", "v1"}).code == 4);
  CHECK(h.fake.state()["instances"].size() == 1);
  // After it: a matching offer is rented as a new generation, the worker re-pointed.
  h.set_now(k_start + 2 * 3600 + 360);
  auto r = h.cli.run({"wake", "v1", "--json"});
  CAPTURE(r.err);
  REQUIRE(r.code == 0);
  json out = r.json();
  REQUIRE(out["rerented"].is_object());
  CHECK(out["rerented"]["old_instance"] == h.instance);
  CHECK(out["rerented"]["old_destroyed"] == false);
  CHECK(r.err.find("did not come along") != std::string::npos);
  const json st = h.fake.state();
  REQUIRE(st["instances"].size() == 2);
  json old_i, new_i;
  for (const auto& i : st["instances"]) {
    (i["id"] == h.instance ? old_i : new_i) = i;
  }
  CHECK(old_i["actual_status"] == "stopped"); // left as it was: the user's disk
  CHECK(new_i["label"] == "gpuctl:1:2");       // the next label generation
  CHECK(new_i["image_uuid"] == "pytorch/pytorch");
  CHECK(new_i["gpu_name"] == "RTX 4090");
  auto w = h.worker();
  CHECK(w["instance_id"] == std::to_string(new_i["id"].get<long long>()));
  // The old instance is reported by the next sync as not managed.
  auto sync = h.cli.ok({"worker", "sync", "--json"}).json();
  bool reported = false;
  for (const auto& u : sync["unmanaged"]) {
    reported = reported || u["instance_id"] == h.instance;
  }
  CHECK(reported);
  // It boots and runs with its spec.
  h.set_now(k_start + 2 * 3600 + 480);
  h.cli.ok({"worker", "sync"});
  CHECK(h.worker()["state"] == "online");
}

TEST_CASE("offers rent --watchdog puts the idle watchdog in the onstart, with no account key, and worker show gives the idle rules")
{
  FakeServer fake{"vast"};
  Cli cli;
  cli.env["GPUCTL_VAST_URL"] = fake.url();
  cli.env["VAST_API_KEY"] = "TESTKEY";
  cli.env["GPUCTL_NOW"] = at(k_start);
  write_file(cli.dir() / "config.toml", "[providers.vast]\npace = \"0s\"\n");
  cli.env["GPUCTL_CONFIG"] = cli.dir() / "config.toml";
  cli.ok({"account", "add", "lab", "--provider", "vast"});
  write_file(cli.dir() / "on.sh", "pip install -r requirements.txt");
  auto offer = cli.ok({"offers", "search", "--gpu", "RTX_4090", "--limit", "1", "--json"}).json();
  cli.ok({"offers", "rent", std::to_string(offer.at(0)["id"].get<long long>()), "--name", "v1",
          "--account", "lab", "--image", "pytorch/pytorch", "--onstart", cli.dir() / "on.sh",
          "--watchdog"});
  const json st = fake.state();
  std::string onstart = st["instances"][0]["onstart"];
  CHECK(onstart.rfind("pip install -r requirements.txt\n", 0) == 0); // the user's own first
  CHECK(onstart.find("CONTAINER_API_KEY") != std::string::npos);
  CHECK(onstart.find("TESTKEY") == std::string::npos);
  cli.ok({"hibernate", "config", "v1", "--idle-for", "5m", "--delete-after", "2h"});
  cli.ok({"hibernate", "schedule", "v1", "--wake", "09:00", "--sleep", "18:00", "--tz",
          "Europe/Berlin", "--days", "mon-fri"});
  auto w = cli.ok({"worker", "show", "v1", "--json"}).json();
  REQUIRE(w["hibernation"].is_object());
  CHECK(w["hibernation"]["idle_for_s"] == 300);
  CHECK(w["hibernation"]["delete_after_s"] == 7200);
  CHECK(w["hibernation"]["idle_below"] == 5.0);
  CHECK(w["hibernation"]["schedule"]["wake"] == "09:00");
  CHECK(w["hibernation"]["schedule"]["days"] == "mon-fri");
  CHECK(w["hibernation"]["schedule"]["tz"] == "Europe/Berlin");
}

TEST_CASE("a wake time of 02:30 in America/New_York fires at the right instants on both 2026 DST days")
{
  FakeServer fake{"vast"};
  Cli cli;
  cli.env["GPUCTL_VAST_URL"] = fake.url();
  cli.env["VAST_API_KEY"] = "TESTKEY";
  cli.env["GPUCTL_TEST_SLEEP"] = "record";
  write_file(cli.dir() / "config.toml", "[providers.vast]\npace = \"0s\"\n");
  cli.env["GPUCTL_CONFIG"] = cli.dir() / "config.toml";
  auto set = [&](const std::string& rfc3339, long long epoch) {
    cli.env["GPUCTL_NOW"] = rfc3339;
    fake.control("clock", {{"now", epoch}});
  };
  auto woke = [&]() {
    return cli.ok({"events", "--worker", "v1", "--type", "woke", "--json"}).json().size();
  };
  set("2026-03-07T12:00:00Z", 1772884800);
  cli.ok({"account", "add", "lab", "--provider", "vast"});
  auto offer = cli.ok({"offers", "search", "--gpu", "RTX_4090", "--limit", "1", "--json"}).json();
  cli.ok({"offers", "rent", std::to_string(offer.at(0)["id"].get<long long>()), "--name", "v1",
          "--account", "lab", "--image", "pytorch/pytorch"});
  set("2026-03-07T13:00:00Z", 1772888400);
  cli.ok({"hibernate", "now", "v1"});
  cli.ok({"hibernate", "schedule", "v1", "--wake", "02:30", "--tz", "America/New_York"});
  // 2026-03-08: 02:00 EST jumps to 03:00 EDT, so 02:30 does not exist: it fires at the end of
  // the gap, 03:00 EDT = 07:00Z.
  set("2026-03-08T06:59:00Z", 1772953140);
  cli.ok({"hibernate-sweep"});
  CHECK(woke() == 0);
  set("2026-03-08T07:00:00Z", 1772953200);
  auto r = cli.ok({"hibernate-sweep"});
  CHECK(r.out.find("wake") != std::string::npos);
  CHECK(woke() == 1);
  // 2026-11-01: 02:00 EDT falls back to 01:00 EST; 02:30 EST = 07:30Z, once.
  set("2026-11-01T02:00:00Z", 1793498400);
  cli.ok({"worker", "sync"});
  cli.ok({"hibernate", "now", "v1"});
  set("2026-11-01T07:29:00Z", 1793518140);
  cli.ok({"hibernate-sweep"});
  CHECK(woke() == 1); // the wake of 2026-10-31 02:30 fired while it was up: not applied now
  set("2026-11-01T07:30:00Z", 1793518200);
  cli.ok({"hibernate-sweep"});
  CHECK(woke() == 2);
  set("2026-11-01T08:30:00Z", 1793521800);
  cli.ok({"hibernate-sweep"});
  CHECK(woke() == 2);
}
