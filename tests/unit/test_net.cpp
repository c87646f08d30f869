// SPDX-License-Identifier: MIT
// net::Caller: retries, backoff, Retry-After, retry safety per operation, redaction, pacing —
// against a scripted transport (no sockets, no sleeps).
#include "gpuctl/net/caller.hpp"

#include <doctest/doctest.h>

#include <deque>
#include <functional>

using namespace gpuctl;
using namespace gpuctl::net;

namespace {

/// Answers from a script: each entry returns a Response or throws a TransportError.
struct Scripted final : Transport {
  std::deque<std::function<Response()>> script;
  std::vector<Request> seen;
  Response
  perform(const Request& r, const Timeouts&) override
  {
    seen.push_back(r);
    REQUIRE_FALSE(script.empty());
    auto next = script.front();
    script.pop_front();
    return next();
  }
};

std::function<Response()>
answer(int status, std::string body = "{}", std::optional<std::string> retry_after = std::nullopt)
{
  return [=] {
    Response r;
    r.status = status;
    r.body = body;
    r.retry_after = retry_after;
    return r;
  };
}

std::function<Response()>
broken(TransportError::Kind kind)
{
  return [=]() -> Response { throw TransportError(kind, "scripted failure"); };
}

struct Rig {
  Scripted transport;
  RecordingSleeper sleeper;
  FixedClock clock{Instant(std::chrono::seconds(1796025600))};
  Caller caller{transport, sleeper, clock, RetryPolicy{}, Timeouts{}};
  Operation op{"vast.ai", "list instances"};
  Request req{"GET", "https://console.vast.ai/api/v1/instances/?limit=25", {{"Authorization", "Bearer SECRETKEY"}}};
};

} // namespace

TEST_CASE("a 429 with Retry-After waits exactly that long, then succeeds")
{
  Rig rig;
  rig.transport.script = {answer(429, "{}", "7"), answer(200)};
  auto r = rig.caller.call(rig.op, rig.req, {"SECRETKEY"});
  CHECK(r.status == 200);
  REQUIRE(rig.sleeper.waits.size() == 1);
  CHECK(rig.sleeper.waits[0] == Millis(7000));
}

TEST_CASE("Retry-After as an HTTP date is relative to the clock")
{
  Instant now(std::chrono::seconds(1796025600)); // Mon, 30 Nov 2026 08:00:00 GMT
  CHECK(parse_retry_after("Mon, 30 Nov 2026 08:00:42 GMT", now) == std::chrono::seconds(42));
  CHECK(parse_retry_after("120", now) == std::chrono::seconds(120));
  CHECK(parse_retry_after("Mon, 30 Nov 2026 07:00:00 GMT", now) == std::chrono::seconds(0));
  CHECK_FALSE(parse_retry_after("soon", now));
  CHECK_FALSE(parse_retry_after("-5", now));
  CHECK_FALSE(parse_retry_after("", now));
}

TEST_CASE("a 429 without Retry-After backs off on its own, growing, and gives up after the retries")
{
  Rig rig;
  for (int i = 0; i < 5; ++i) {
    rig.transport.script.push_back(answer(429));
  }
  try {
    rig.caller.call(rig.op, rig.req, {"SECRETKEY"});
    FAIL("expected a CallError");
  } catch (const CallError& e) {
    CHECK(e.exit_code() == 3);
    CHECK(e.status() == 429);
    CHECK(std::string(e.what()).find("vast.ai list instances") == 0);
    CHECK(std::string(e.what()).find("5 attempts") != std::string::npos);
  }
  REQUIRE(rig.sleeper.waits.size() == 4); // 1 + retries(4) attempts
  for (size_t i = 0; i < rig.sleeper.waits.size(); ++i) {
    double base = 0.5 * (1 << i) * 1000; // equal jitter: in [b/2, b]
    CHECK(rig.sleeper.waits[i].count() >= base / 2);
    CHECK(rig.sleeper.waits[i].count() <= base);
  }
  CHECK(rig.sleeper.waits[3] > rig.sleeper.waits[0]);
}

TEST_CASE("vast.ai backoff starts at the threshold the 429 body names")
{
  Rig rig;
  rig.op.backoff_base_s = 1.0;
  rig.transport.script = {answer(429, "API requests too frequent endpoint threshold=4.5"), answer(200)};
  rig.caller.call(rig.op, rig.req, {});
  REQUIRE(rig.sleeper.waits.size() == 1);
  CHECK(rig.sleeper.waits[0] >= Millis(2250));
  CHECK(rig.sleeper.waits[0] <= Millis(4500));
}

TEST_CASE("5xx, timeouts, resets and malformed JSON are retried for safe operations")
{
  Rig rig;
  rig.transport.script = {answer(500), broken(TransportError::Kind::timeout),
                          broken(TransportError::Kind::reset), answer(200, "{\"a\":"), answer(200, "{}")};
  auto r = rig.caller.call(rig.op, rig.req, {});
  CHECK(r.body == "{}");
  CHECK(rig.transport.seen.size() == 5);
  CHECK(rig.sleeper.waits.size() == 4);
}

TEST_CASE("an operation that creates something is never repeated after an unknown outcome")
{
  for (auto first : {answer(502), broken(TransportError::Kind::timeout),
                     broken(TransportError::Kind::reset), answer(200, "<html>")}) {
    Rig rig;
    rig.op.retry_safe = false;
    rig.transport.script = {first, answer(200)};
    try {
      rig.caller.call(rig.op, rig.req, {});
      FAIL("expected a CallError");
    } catch (const CallError& e) {
      CHECK(e.maybe_delivered());
      CHECK(std::string(e.what()).find("may have been carried out") != std::string::npos);
    }
    CHECK(rig.transport.seen.size() == 1);
  }
}

TEST_CASE("a 429 or a refused connection is retried even for creating operations")
{
  Rig rig;
  rig.op.retry_safe = false;
  rig.transport.script = {answer(429, "{}", "1"), broken(TransportError::Kind::connect), answer(200)};
  CHECK(rig.caller.call(rig.op, rig.req, {}).status == 200);
  CHECK(rig.transport.seen.size() == 3);
}

TEST_CASE("4xx answers are returned to the client at once")
{
  Rig rig;
  rig.transport.script = {answer(401, R"({"msg":"Invalid user key"})")};
  CHECK(rig.caller.call(rig.op, rig.req, {}).status == 401);
  CHECK(rig.sleeper.waits.empty());
}

TEST_CASE("a Retry-After beyond the limit ends the call instead of waiting for hours")
{
  Rig rig;
  rig.transport.script = {answer(429, "{}", "86400")};
  CHECK_THROWS_AS(rig.caller.call(rig.op, rig.req, {}), CallError);
  CHECK(rig.sleeper.waits.empty());
}

TEST_CASE("secrets never reach the call log or error messages")
{
  Rig rig;
  std::vector<std::string> lines;
  rig.caller.set_log([&](const std::string& l) { lines.push_back(l); });
  rig.req.url = "https://example.test/x?token=SECRETKEY";
  rig.transport.script = {broken(TransportError::Kind::connect), broken(TransportError::Kind::connect),
                          broken(TransportError::Kind::connect), broken(TransportError::Kind::connect),
                          broken(TransportError::Kind::connect)};
  try {
    rig.caller.call(rig.op, rig.req, {"SECRETKEY"});
    FAIL("expected a CallError");
  } catch (const CallError& e) {
    CHECK(std::string(e.what()).find("SECRETKEY") == std::string::npos);
  }
  REQUIRE(lines.size() == 9); // 5 calls and 4 "retrying in N s" lines between them
  for (size_t i = 0; i < lines.size(); ++i) {
    CHECK(lines[i].find("SECRETKEY") == std::string::npos);
    CHECK(lines[i].find(i % 2 == 0 ? "GET /x?token=[REDACTED]" : "http: retrying in ") != std::string::npos);
  }
}

TEST_CASE("pacing waits what the pacer says before each paced call")
{
  Rig rig;
  rig.op.pace_endpoint = "GET /api/v1/instances/";
  rig.op.pace_gap = Millis(1000);
  std::vector<std::string> asked;
  rig.caller.set_pacer([&](const std::string& ep, const std::string& key, Millis gap) {
    asked.push_back(ep + "|" + key + "|" + std::to_string(gap.count()));
    return Millis(asked.size() == 1 ? 0 : 650);
  });
  rig.transport.script = {answer(200), answer(200)};
  rig.caller.call(rig.op, rig.req, {}, "k1");
  rig.caller.call(rig.op, rig.req, {}, "k1");
  CHECK(asked == std::vector<std::string>{"GET /api/v1/instances/|k1|1000", "GET /api/v1/instances/|k1|1000"});
  CHECK(rig.sleeper.waits == std::vector<Millis>{Millis(650)});
}

#include "gpuctl/store/database.hpp"
#include "gpuctl/store/provider_state.hpp"
#include "support/support.hpp"

TEST_CASE("api call slots: each reservation comes at least the gap after the previous one")
{
  gpuctl::test::TempDir dir;
  auto db = gpuctl::store::Database::open(dir / "state.db", gpuctl::store::Access::write);
  auto reserve = [&](std::int64_t now_ms) {
    return db.write([&] {
      return gpuctl::store::reserve_api_call(db.sql(), "vast", "GET /api/v1/instances/", "k", 1000, now_ms);
    });
  };
  CHECK(reserve(10000) == 0);
  CHECK(reserve(10200) == 800);  // slot at 11000
  CHECK(reserve(10300) == 1700); // slot at 12000
  CHECK(reserve(20000) == 0);    // long after: at once
  CHECK(db.write([&] {
    return gpuctl::store::reserve_api_call(db.sql(), "vast", "GET /api/v1/instances/", "other", 1000, 20000);
  }) == 0); // another key has its own slots
}
