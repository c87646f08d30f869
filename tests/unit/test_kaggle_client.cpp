// SPDX-License-Identifier: MIT
// The Kaggle client against fake_kaggle (specs/kaggle-api.md), call by call and field by field,
// and every call under every fault: 429 with and without Retry-After, 500 then success, timeout,
// connection reset, malformed and truncated JSON, bounded 503s, 401.
#include "gpuctl/core/time.hpp"
#include "gpuctl/net/caller.hpp"
#include "gpuctl/providers/kaggle/client.hpp"
#include "support/fake_server.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <sstream>
#include <unistd.h>

using namespace gpuctl;
using nlohmann::json;
namespace kaggle = gpuctl::providers::kaggle;
namespace fs = std::filesystem;

namespace {

constexpr const char* k_rpc = "/v1/kernels.KernelsApiService/";
constexpr const char* k_save_route = "POST /v1/kernels.KernelsApiService/SaveKernel";

kaggle::Auth
key_auth(const std::string& user = "alice", const std::string& key = "TESTKEY")
{
  return {kaggle::Auth::Kind::key, user, key};
}

kaggle::Auth
token_auth(const std::string& token = "TESTTOKEN")
{
  return {kaggle::Auth::Kind::token, "", token};
}

struct Rig {
  test::FakeServer fake{"kaggle"};
  std::unique_ptr<net::Transport> transport = net::make_curl_transport();
  net::RecordingSleeper sleeper;
  FixedClock clock{Instant(std::chrono::seconds(1796025600))};
  net::Caller caller;
  kaggle::Client client;
  std::vector<std::string> lines; ///< the --verbose call log
  explicit Rig(kaggle::Auth auth = key_auth())
      : caller(*transport, sleeper, clock, net::RetryPolicy{}, net::Timeouts{2, 0.6}),
        client(caller, fake.url(), std::move(auth))
  {
    caller.set_log([this](const std::string& l) { lines.push_back(l); });
  }
  /// Log entries of provider calls (control calls are not logged).
  json calls() { return fake.log(); }
  /// Log entries of one RPC method.
  json calls_of(const std::string& method)
  {
    json out = json::array();
    for (const auto& e : calls()) {
      if (e["path"] == std::string(k_rpc) + method) {
        out.push_back(e);
      }
    }
    return out;
  }
};

const json&
last_call(const json& log)
{
  REQUIRE_FALSE(log.empty());
  return log.back();
}

/// The RPC conventions of spec §1.2–1.3 on one log entry.
void
check_rpc(const json& e, const std::string& path)
{
  CHECK(e["method"] == "POST");
  CHECK(e["path"] == path);
  CHECK(e["query"] == ""); // never a query string on RPC calls
  CHECK(e["headers"]["Content-Type"] == "application/json");
  CHECK(e["headers"]["Accept"] == "application/json");
  CHECK(e["headers"]["User-Agent"].get<std::string>().starts_with("gpuctl/"));
}

void
check_basic(const json& e)
{
  CHECK(e["auth"] == "basic");
  CHECK(e["auth_ok"] == true);
  CHECK(e["headers"]["Authorization"] == "Basic [REDACTED]");
  CHECK(e.dump().find("TESTKEY") == std::string::npos);
}

void
check_bearer(const json& e)
{
  CHECK(e["auth"] == "bearer");
  CHECK(e["auth_ok"] == true);
  CHECK(e["headers"]["Authorization"] == "Bearer [REDACTED]");
  CHECK(e["headers"].dump().find("TESTTOKEN") == std::string::npos);
}

json
body_of(const json& e)
{
  return json::parse(e["body"].get<std::string>());
}

json
answer_of(const json& e)
{
  return json::parse(e["response_body"].get<std::string>());
}

kaggle::PushRequest
push_request(const std::string& slug)
{
  kaggle::PushRequest p;
  p.owner = "alice";
  p.slug = slug;
  p.title = "Title of " + slug;
  p.text = "print(1)\n";
  return p;
}

/// A kernel whose run has completed (outputs listed), pushed before the log is cleared.
void
completed_kernel(Rig& rig, const std::string& slug)
{
  rig.client.push(push_request(slug));
  rig.fake.control("clock", {{"advance", 700}});
  rig.fake.clear_log();
}

std::string
read_file(const fs::path& p)
{
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

/// A fresh scratch directory, removed at scope exit.
struct TempDir {
  fs::path path;
  TempDir()
  {
    static int n = 0;
    path = fs::temp_directory_path() /
           ("gpuctl-kaggle-test-" + std::to_string(getpid()) + "-" + std::to_string(++n));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
};

} // namespace

TEST_CASE("kaggle enum spellings and protobuf durations are parsed leniently")
{
  CHECK(kaggle::normalise_enum("COMPLETE") == "COMPLETE");
  CHECK(kaggle::normalise_enum("complete") == "COMPLETE");
  CHECK(kaggle::normalise_enum("cancelAcknowledged") == "CANCEL_ACKNOWLEDGED");
  CHECK(kaggle::normalise_enum("NEW_SCRIPT") == "NEW_SCRIPT");
  CHECK(kaggle::normalise_enum("newScript") == "NEW_SCRIPT");
  CHECK(kaggle::parse_duration("108000s") == 108000.0);
  CHECK(kaggle::parse_duration("9108.5s") == 9108.5);
  CHECK(kaggle::parse_duration("0s") == 0.0);
  CHECK_FALSE(kaggle::parse_duration("108000"));
  CHECK_FALSE(kaggle::parse_duration("s"));
  CHECK_FALSE(kaggle::parse_duration("-1s"));
  CHECK_FALSE(kaggle::parse_duration("12xs"));
  CHECK_FALSE(kaggle::parse_duration(108000));
  CHECK_FALSE(kaggle::parse_duration(json()));
  CHECK(kaggle::KernelStatus{"COMPLETE", ""}.terminal());
  CHECK(kaggle::KernelStatus{"ERROR", "x"}.terminal());
  CHECK(kaggle::KernelStatus{"CANCEL_ACKNOWLEDGED", ""}.terminal());
  CHECK_FALSE(kaggle::KernelStatus{"CANCEL_REQUESTED", ""}.terminal());
  CHECK_FALSE(kaggle::KernelStatus{"RUNNING", ""}.terminal());
  CHECK_FALSE(kaggle::KernelStatus{"QUEUED", ""}.terminal());
}

TEST_CASE("kaggle introspect: Bearer token, active and username, an unknown token is inactive")
{
  {
    Rig rig(token_auth());
    auto [active, user] = rig.client.introspect();
    CHECK(active);
    CHECK(user == "alice");
    auto e = last_call(rig.calls());
    check_rpc(e, "/v1/security.OAuthService/IntrospectToken");
    check_bearer(e);
    CHECK(body_of(e) == json{{"token", "TESTTOKEN"}}); // spec §2.3: the token goes in the body
    json a = answer_of(e);
    CHECK(a["active"] == true);
    CHECK(a["username"] == "alice");
    CHECK(rig.sleeper.waits.empty());
  }
  Rig rig(token_auth("NOT-A-TOKEN"));
  auto [active, user] = rig.client.introspect(); // 200 {"active": false}, never 401
  CHECK_FALSE(active);
  CHECK(user == "");
  auto e = last_call(rig.calls());
  CHECK(e["status"] == 200);
  CHECK(e["headers"]["Authorization"] == "Bearer [REDACTED]");
  CHECK(e["auth"] == "bearer");
  CHECK(e["auth_ok"] == false);
  CHECK(body_of(e) == json{{"token", "NOT-A-TOKEN"}});
}

TEST_CASE("kaggle push: SaveKernel body field by field (spec §3.1) and the answer (§3.4)")
{
  Rig rig;
  kaggle::PushRequest p;
  p.owner = "alice";
  p.slug = "gpuctl-smoke";
  p.title = "GPU Ctl Smoke";
  p.text = "import torch\nprint(torch.cuda.is_available())\n";
  p.dataset_sources = {"alice/some-dataset", "alice/missing-data"};
  p.session_timeout_s = 3600;
  p.enable_internet = false;
  auto r = rig.client.push(p);
  {
    auto log = rig.calls();
    REQUIRE(log.size() == 1);
    const auto& e = log[0];
    check_rpc(e, std::string(k_rpc) + "SaveKernel");
    check_basic(e);
    json b = body_of(e);
    CHECK(b["slug"] == "alice/gpuctl-smoke");
    CHECK(b["newTitle"] == "GPU Ctl Smoke");
    CHECK(b["text"] == "import torch\nprint(torch.cuda.is_available())\n");
    CHECK(b["language"] == "python");
    CHECK(b["kernelType"] == "script");
    CHECK(b["datasetDataSources"] == json::array({"alice/some-dataset", "alice/missing-data"}));
    CHECK(b["isPrivate"] == true);
    CHECK(b["enableGpu"] == true);
    CHECK(b["enableInternet"] == false);
    CHECK(b["enableTpu"] == false);
    CHECK(b["sessionTimeoutSeconds"] == 3600);
    CHECK(b["machineShape"] == "NvidiaTeslaT4");
    CHECK(b.size() == 12); // nothing else (no id, priority, kernelExecutionType, ...)
    json a = answer_of(e);
    CHECK(r.ref == a["ref"].get<std::string>());
    CHECK(r.url == a["url"].get<std::string>());
    CHECK(r.version == a["versionNumber"].get<std::int64_t>());
    CHECK(r.kernel_id == a["kernelId"].get<std::int64_t>());
  }
  CHECK(r.ref == "/code/alice/gpuctl-smoke");
  CHECK(r.url == "https://www.kaggle.com/code/alice/gpuctl-smoke");
  CHECK(r.version == 1);
  CHECK(r.kernel_id == 4242);
  CHECK(r.dropped_sources == std::vector<std::string>{"alice/missing-data"});

  // Minimal request: no title, no sources, no timeout, CPU, an explicit empty shape (§1.4).
  rig.fake.clear_log();
  kaggle::PushRequest m;
  m.owner = "alice";
  m.slug = "gpuctl-smoke";
  m.text = "print(2)\n";
  m.enable_gpu = false;
  m.is_private = false;
  m.enable_internet = true;
  m.machine_shape = "";
  m.kernel_type = "script";
  auto r2 = rig.client.push(m);
  json b = body_of(last_call(rig.calls()));
  CHECK(b == json{{"slug", "alice/gpuctl-smoke"},
                  {"text", "print(2)\n"},
                  {"language", "python"},
                  {"kernelType", "script"},
                  {"isPrivate", false},
                  {"enableGpu", false},
                  {"enableInternet", true},
                  {"enableTpu", false},
                  {"machineShape", ""}});
  CHECK(r2.version == 2); // a new version of the same kernel
  CHECK(r2.kernel_id == 4242);
  CHECK(r2.dropped_sources.empty());
  CHECK(rig.sleeper.waits.empty());
}

TEST_CASE("kaggle push refused with HTTP 200 error: a third GPU run is no free slot (exit 4)")
{
  Rig rig;
  rig.client.push(push_request("run-one"));
  rig.client.push(push_request("run-two"));
  try {
    rig.client.push(push_request("run-three"));
    FAIL("expected a refusal");
  } catch (const kaggle::PushRefused& e) {
    CHECK(e.no_free_slot());
    CHECK(e.exit_code() == 4);
    CHECK(std::string(e.what()) ==
          "Kaggle SaveKernel: push of alice/run-three refused: Maximum batch GPU session count of 2 reached.");
  }
  auto e = last_call(rig.calls());
  CHECK(e["status"] == 200);
  CHECK(answer_of(e) == json{{"error", "Maximum batch GPU session count of 2 reached."}});
  CHECK(rig.calls_of("SaveKernel").size() == 3); // a refusal is an answer: not retried
  CHECK(rig.sleeper.waits.empty());

  // Another refusal (someone else's kernel) is not "no free slot".
  try {
    auto p = push_request("theirs");
    p.owner = "bob";
    rig.client.push(p);
    FAIL("expected a refusal");
  } catch (const kaggle::PushRefused& err) {
    CHECK_FALSE(err.no_free_slot());
    CHECK(err.exit_code() == 4);
    CHECK(std::string(err.what()) == "Kaggle SaveKernel: push of bob/theirs refused: Kernel not found");
  }

  // Once the two runs ended, a slot is free.
  rig.fake.control("clock", {{"advance", 700}});
  CHECK(rig.client.push(push_request("run-three")).version == 1);
}

TEST_CASE("kaggle kernel status: QUEUED, RUNNING, COMPLETE over fake time, lowerCamel normalised")
{
  Rig rig;
  rig.client.push(push_request("lifecycle"));
  rig.fake.clear_log();
  auto s = rig.client.kernel_status("alice", "lifecycle");
  CHECK(s.status == "QUEUED");
  CHECK(s.failure_message == "");
  CHECK_FALSE(s.terminal());
  {
    auto e = last_call(rig.calls());
    check_rpc(e, std::string(k_rpc) + "GetKernelSessionStatus");
    check_basic(e);
    CHECK(body_of(e) == json{{"userName", "alice"}, {"kernelSlug", "lifecycle"}});
    CHECK(answer_of(e) == json{{"status", "QUEUED"}});
  }
  rig.fake.control("clock", {{"advance", 29}});
  CHECK(rig.client.kernel_status("alice", "lifecycle").status == "QUEUED");
  rig.fake.control("clock", {{"advance", 1}});
  CHECK(rig.client.kernel_status("alice", "lifecycle").status == "RUNNING");
  rig.fake.control("clock", {{"advance", 599}});
  CHECK(rig.client.kernel_status("alice", "lifecycle").status == "RUNNING");
  rig.fake.control("clock", {{"advance", 1}});
  s = rig.client.kernel_status("alice", "lifecycle");
  CHECK(s.status == "COMPLETE");
  CHECK(s.failure_message == "");
  CHECK(s.terminal());

  rig.fake.control("status_style", {{"style", "camel"}});
  s = rig.client.kernel_status("alice", "lifecycle");
  CHECK(answer_of(last_call(rig.calls()))["status"] == "complete");
  CHECK(s.status == "COMPLETE");
  rig.client.push(push_request("lifecycle"));
  CHECK(rig.client.kernel_status("alice", "lifecycle").status == "QUEUED");
  CHECK(answer_of(last_call(rig.calls()))["status"] == "queued");
  rig.fake.control("clock", {{"advance", 30}});
  CHECK(rig.client.kernel_status("alice", "lifecycle").status == "RUNNING");

  // A missing status is the enum's default, QUEUED (§4).
  rig.fake.fault("POST /v1/kernels.KernelsApiService/GetKernelSessionStatus", "status", 1,
                 {{"status", 200}, {"body", "{}"}});
  CHECK(rig.client.kernel_status("alice", "lifecycle").status == "QUEUED");
  rig.fake.fault("POST /v1/kernels.KernelsApiService/GetKernelSessionStatus", "status", 1,
                 {{"status", 200}, {"body", R"({"status": "cancelAcknowledged"})"}});
  CHECK(rig.client.kernel_status("alice", "lifecycle").status == "CANCEL_ACKNOWLEDGED");
  CHECK(rig.sleeper.waits.empty());
}

TEST_CASE("kaggle kernel status: ERROR with the failure message, and a run stopped at its limit")
{
  Rig rig;
  rig.fake.control("kernel_timing", {{"outcome", "ERROR"}, {"failure_message", "CUDA out of memory"}});
  rig.client.push(push_request("failing"));
  rig.fake.control("clock", {{"advance", 630}});
  auto s = rig.client.kernel_status("alice", "failing");
  CHECK(s.status == "ERROR");
  CHECK(s.failure_message == "CUDA out of memory");
  CHECK(s.terminal());
  CHECK(answer_of(last_call(rig.calls())) ==
        json{{"status", "ERROR"}, {"failureMessage", "CUDA out of memory"}});

  rig.fake.control("kernel_timing", {{"outcome", "COMPLETE"}});
  auto p = push_request("too-long");
  p.session_timeout_s = 60;
  rig.client.push(p);
  rig.fake.control("clock", {{"advance", 90}});
  s = rig.client.kernel_status("alice", "too-long");
  CHECK(s.status == "ERROR");
  CHECK(s.failure_message ==
        "Your notebook was stopped because it exceeded the max allowed execution duration.");
}

TEST_CASE("kaggle error bodies: nested and flat 404, 403, plain text, code in a 200, secret echoed")
{
  Rig rig;
  try {
    rig.client.kernel_status("alice", "no-such-kernel");
    FAIL("expected an error");
  } catch (const Error& e) {
    CHECK(e.exit_code() == 3);
    CHECK(std::string(e.what()) == "Kaggle GetKernelSessionStatus: HTTP 404: Kernel not found");
  }
  CHECK(answer_of(last_call(rig.calls()))["error"]["status"] == "NOT_FOUND");
  rig.fake.control("error_style", {{"style", "flat"}});
  CHECK_THROWS_WITH_AS(rig.client.kernel_status("alice", "no-such-kernel"),
                       "Kaggle GetKernelSessionStatus: HTTP 404: Kernel not found", Error);
  CHECK(answer_of(last_call(rig.calls())) == json{{"code", 404}, {"message", "Kernel not found"}});
  CHECK_THROWS_WITH_AS(rig.client.output("alice", "no-such-kernel"),
                       "Kaggle ListKernelSessionOutput: HTTP 404: Kernel not found", Error);
  rig.fake.control("error_style", {{"style", "nested"}});

  // Another user's private kernel: 403.
  rig.fake.control("credentials", {{"basic", {{"alice", "TESTKEY"}, {"bob", "BOBKEY"}}}});
  kaggle::Client bob(rig.caller, rig.fake.url(), key_auth("bob", "BOBKEY"));
  auto p = push_request("bobs-kernel");
  p.owner = "bob";
  bob.push(p);
  CHECK_THROWS_WITH_AS(rig.client.kernel_status("bob", "bobs-kernel"),
                       "Kaggle GetKernelSessionStatus: HTTP 403: Permission 'kernels.get' was denied",
                       Error);
  CHECK(bob.kernel_status("bob", "bobs-kernel").status == "QUEUED");
  // ListKernels PROFILE is the caller's own kernels only.
  CHECK(rig.client.list_kernels().empty());
  REQUIRE(bob.list_kernels().size() == 1);

  // No JSON: the body itself, on one line.
  rig.fake.fault("POST /v1/kernels.KernelsApiService/ListKernels", "status", 1,
                 {{"status", 400}, {"body", "bad\nrequest"}, {"content_type", "text/plain"}});
  CHECK_THROWS_WITH_AS(rig.client.list_kernels(), "Kaggle ListKernels: HTTP 400: bad request", Error);
  // §9.1: a numeric top-level code >= 400 is an error whatever the status.
  rig.fake.fault("POST /v1/kernels.KernelsApiService/GetAcceleratorQuotaStatistics", "status", 1,
                 {{"status", 200}, {"body", R"({"code": 403, "message": "quota is hidden"})"}});
  CHECK_THROWS_WITH_AS(rig.client.quota(),
                       "Kaggle GetAcceleratorQuotaStatistics: HTTP 403: quota is hidden", Error);
  // A server that echoes the key back: redacted in the message.
  rig.fake.fault("POST /v1/kernels.KernelsApiService/ListKernels", "status", 1,
                 {{"status", 400}, {"body", R"({"error": {"code": 400, "message": "bad key TESTKEY"}})"}});
  try {
    rig.client.list_kernels();
    FAIL("expected an error");
  } catch (const Error& e) {
    CHECK(std::string(e.what()) == "Kaggle ListKernels: HTTP 400: bad key [REDACTED]");
  }
  CHECK(rig.sleeper.waits.empty());
}

TEST_CASE("kaggle output: every page, files with a sub-directory, the log")
{
  Rig rig;
  rig.client.push(push_request("outputs"));
  rig.fake.control("clock", {{"advance", 32}}); // running for 2 s: the first log line only
  auto live = rig.client.output("alice", "outputs");
  CHECK(live.files.empty());
  json log = json::parse(live.log);
  REQUIRE(log.size() == 1);
  CHECK(log[0]["data"] == "starting\n");
  {
    auto e = last_call(rig.calls());
    check_rpc(e, std::string(k_rpc) + "ListKernelSessionOutput");
    check_basic(e);
    CHECK(body_of(e) == json{{"userName", "alice"}, {"kernelSlug", "outputs"}, {"pageSize", 100}});
  }

  rig.fake.control("clock", {{"advance", 700}});
  rig.fake.clear_log();
  auto out = rig.client.output("alice", "outputs");
  REQUIRE(out.files.size() == 3);
  CHECK(out.files[0].file_name == "result.json");
  CHECK(out.files[1].file_name == "model/weights.bin");
  CHECK(out.files[2].file_name == "submission.csv");
  const std::string prefix = rig.fake.url() + "/__files/alice/outputs/1/";
  for (const auto& f : out.files) {
    CAPTURE(f.url);
    CHECK(f.url.starts_with(prefix + f.file_name + "?X-Goog-Algorithm=GOOG4-RSA-SHA256&"));
  }
  log = json::parse(out.log);
  REQUIRE(log.size() == 3);
  CHECK(log[0] == json{{"stream_name", "stdout"}, {"time", 1.25}, {"data", "starting\n"}});
  CHECK(log[1] == json{{"stream_name", "stderr"}, {"time", 2.5}, {"data", "warning: something\n"}});
  CHECK(log[2] == json{{"stream_name", "stdout"}, {"time", 3.75}, {"data", "done\n"}});
  auto e = last_call(rig.calls());
  json a = answer_of(e);
  CHECK(out.log == a["log"].get<std::string>());
  for (size_t i = 0; i < 3; ++i) {
    CHECK(out.files[i].url == a["files"][i]["url"].get<std::string>());
  }
  CHECK_FALSE(a.contains("nextPageToken"));
  CHECK(rig.calls().size() == 1);

  // Two pages: the first (one file and the log) from a scripted answer, the second from the fake.
  json first = a;
  first["files"] = json::array({a["files"][0]});
  first["nextPageToken"] = "next-1";
  rig.fake.clear_log();
  rig.fake.fault("POST /v1/kernels.KernelsApiService/ListKernelSessionOutput", "status", 1,
                 {{"status", 200}, {"body", first.dump()}});
  auto paged = rig.client.output("alice", "outputs");
  auto calls = rig.calls();
  REQUIRE(calls.size() == 2);
  CHECK(body_of(calls[0]) == json{{"userName", "alice"}, {"kernelSlug", "outputs"}, {"pageSize", 100}});
  CHECK(body_of(calls[1]) == json{{"userName", "alice"},
                                  {"kernelSlug", "outputs"},
                                  {"pageSize", 100},
                                  {"pageToken", "next-1"}});
  REQUIRE(paged.files.size() == 3);
  CHECK(paged.files[0].file_name == "result.json");
  CHECK(paged.files[1].file_name == "model/weights.bin");
  CHECK(paged.files[2].file_name == "submission.csv");
  CHECK(paged.log == out.log); // from the first page

  // A failed run: no files, the failure in the log.
  rig.fake.control("kernel_timing", {{"outcome", "ERROR"}, {"failure_message", "boom"}});
  rig.client.push(push_request("outputs"));
  rig.fake.control("clock", {{"advance", 700}});
  auto failed = rig.client.output("alice", "outputs");
  CHECK(failed.files.empty());
  log = json::parse(failed.log);
  REQUIRE(log.size() == 3);
  CHECK(log[2] == json{{"stream_name", "stderr"}, {"time", 3.75}, {"data", "boom\n"}});
}

TEST_CASE("kaggle download: files under the directory, sub-directories made, no credentials sent")
{
  Rig rig(token_auth());
  completed_kernel(rig, "downloads");
  auto out = rig.client.output("alice", "downloads");
  REQUIRE(out.files.size() == 3);
  TempDir dir;
  rig.fake.clear_log();
  for (const auto& f : out.files) {
    CAPTURE(f.file_name);
    rig.client.download(f, dir.path.string());
    auto e = last_call(rig.calls());
    CHECK(e["method"] == "GET");
    CHECK(e["path"] == "/__files/alice/downloads/1/" + f.file_name);
    CHECK(e["status"] == 200);
    CHECK_FALSE(e["headers"].contains("Authorization")); // §1.3: no Kaggle credentials
    CHECK_FALSE(e["headers"].contains("Content-Type"));
    CHECK(e["body"] == "");
    CHECK(e.dump().find("TESTTOKEN") == std::string::npos);
    CHECK(read_file(dir.path / f.file_name) == e["response_body"].get<std::string>());
  }
  CHECK(rig.calls().size() == 3);
  CHECK(fs::is_directory(dir.path / "model"));
  CHECK(read_file(dir.path / "result.json") ==
        "{\"kernel\": \"alice/downloads\", \"version\": 1, \"ok\": true}\n");
  CHECK(read_file(dir.path / "model/weights.bin") == std::string("\x00\x01\x02\x03WEIGHTS", 11));
  CHECK(read_file(dir.path / "submission.csv") == "id,target\n1,0.5\n");

  // Unsafe names are refused before any request.
  rig.fake.clear_log();
  for (const char* bad : {"/etc/passwd", "../escape.txt", "model/../../escape.txt", "a/..", ""}) {
    CAPTURE(std::string(bad));
    kaggle::OutputFile f{out.files[0].url, bad};
    CHECK_THROWS_WITH_AS(rig.client.download(f, dir.path.string()),
                         doctest::Contains("Kaggle output: refusing the file name"), Error);
  }
  CHECK(rig.calls().empty());
  CHECK_FALSE(fs::exists(dir.path.parent_path() / "escape.txt"));

  // A 500 from the storage host is retried; an expired URL (403) is reported, not retried.
  rig.fake.fault("GET /__files/*/*/*/*", "status", 1, {{"status", 500}});
  rig.client.download(out.files[2], dir.path.string());
  CHECK(rig.sleeper.waits.size() == 1);
  CHECK(read_file(dir.path / "submission.csv") == "id,target\n1,0.5\n");
  rig.fake.control("clock", {{"advance", 3600}});
  try {
    rig.client.download(out.files[0], dir.path.string());
    FAIL("expected an error");
  } catch (const Error& e) {
    CHECK(e.exit_code() == 3);
    CHECK(std::string(e.what()).starts_with("Kaggle download result.json: HTTP 403"));
    CHECK(std::string(e.what()).find("TESTTOKEN") == std::string::npos);
  }
  CHECK(rig.sleeper.waits.size() == 1);
}

TEST_CASE("kaggle list kernels: ListKernels group PROFILE, newest run first, answer fields")
{
  Rig rig;
  rig.client.push(push_request("older"));
  rig.fake.control("clock", {{"advance", 700}});
  auto p = push_request("newer");
  p.machine_shape = "NvidiaTeslaP100"; // retired: the server runs a T4 (§3.5)
  rig.client.push(p);
  rig.client.push(p);
  rig.fake.clear_log();
  auto kernels = rig.client.list_kernels();
  auto e = last_call(rig.calls());
  check_rpc(e, std::string(k_rpc) + "ListKernels");
  check_basic(e);
  CHECK(body_of(e) == json{{"group", "PROFILE"}, {"sortBy", "DATE_RUN"}, {"page", 1}, {"pageSize", 50}});
  REQUIRE(kernels.size() == 2);
  CHECK(kernels[0].ref == "alice/newer");
  CHECK(kernels[0].title == "Title of newer");
  REQUIRE(kernels[0].last_run_time);
  CHECK(*kernels[0].last_run_time == "2026-11-30T08:11:40Z");
  CHECK(kernels[0].current_version == 2);
  CHECK(kernels[0].machine_shape == "NvidiaTeslaT4");
  CHECK(kernels[1].ref == "alice/older");
  CHECK(kernels[1].title == "Title of older");
  REQUIRE(kernels[1].last_run_time);
  CHECK(*kernels[1].last_run_time == "2026-11-30T08:00:00Z");
  CHECK(kernels[1].current_version == 1);
  json a = answer_of(e);
  for (size_t i = 0; i < 2; ++i) {
    CHECK(kernels[i].ref == a["kernels"][i]["ref"].get<std::string>());
    CHECK(kernels[i].title == a["kernels"][i]["title"].get<std::string>());
    CHECK(*kernels[i].last_run_time == a["kernels"][i]["lastRunTime"].get<std::string>());
    CHECK(kernels[i].current_version == a["kernels"][i]["currentVersionNumber"].get<std::int64_t>());
    CHECK(kernels[i].machine_shape == a["kernels"][i]["machineShape"].get<std::string>());
  }

  rig.client.list_kernels(7);
  CHECK(body_of(last_call(rig.calls()))["pageSize"] == 7);

  // A kernel without runs has no lastRunTime.
  rig.fake.fault("POST /v1/kernels.KernelsApiService/ListKernels", "status", 1,
                 {{"status", 200}, {"body", R"({"kernels": [{"ref": "alice/fresh", "title": "Fresh"}]})"}});
  kernels = rig.client.list_kernels();
  REQUIRE(kernels.size() == 1);
  CHECK(kernels[0].ref == "alice/fresh");
  CHECK_FALSE(kernels[0].last_run_time);
  CHECK(kernels[0].current_version == 0);
  CHECK(kernels[0].machine_shape == "");
  rig.fake.fault("POST /v1/kernels.KernelsApiService/ListKernels", "status", 1,
                 {{"status", 200}, {"body", "{}"}});
  CHECK(rig.client.list_kernels().empty());
}

TEST_CASE("kaggle quota: body {} and the figures, whole and fractional, with a run in progress")
{
  Rig rig;
  auto q = rig.client.quota();
  auto e = last_call(rig.calls());
  check_rpc(e, std::string(k_rpc) + "GetAcceleratorQuotaStatistics");
  check_basic(e);
  CHECK(e["body"] == "{}"); // the two bytes (§1.2)
  CHECK(e["headers"]["Content-Length"] == "2");
  REQUIRE(q.refresh);
  CHECK(*q.refresh == Instant(std::chrono::seconds(1796428800))); // Saturday 2026-12-05 00:00Z
  CHECK(*q.refresh == *parse_rfc3339(answer_of(e)["quotaRefreshTime"].get<std::string>()));
  REQUIRE(q.gpu);
  CHECK(q.gpu->used_s == 0);
  CHECK(q.gpu->reserved_s == 0);
  CHECK(q.gpu->total_s == 108000);
  REQUIRE(q.tpu);
  CHECK(q.tpu->used_s == 0);
  CHECK(q.tpu->total_s == 72000);

  rig.fake.control("quota", {{"gpu_used_s", 9108.5}, {"duration_style", "fraction"}});
  q = rig.client.quota();
  CHECK(answer_of(last_call(rig.calls()))["gpuQuota"]["timeUsed"] == "9108.500s");
  REQUIRE(q.gpu);
  CHECK(q.gpu->used_s == doctest::Approx(9108.5));
  CHECK(q.gpu->total_s == doctest::Approx(108000));

  // A GPU run limited to an hour, 100 s into its run: used grows, the rest of the hour is reserved.
  auto p = push_request("quota-run");
  p.session_timeout_s = 3600;
  rig.client.push(p);
  rig.fake.control("clock", {{"advance", 130}});
  q = rig.client.quota();
  REQUIRE(q.gpu);
  CHECK(q.gpu->used_s == doctest::Approx(9208.5));
  CHECK(q.gpu->reserved_s == doctest::Approx(3500));
  CHECK(q.tpu->used_s == 0);

  // Absent quotas stay absent.
  rig.fake.fault("POST /v1/kernels.KernelsApiService/GetAcceleratorQuotaStatistics", "status", 1,
                 {{"status", 200}, {"body", "{}"}});
  q = rig.client.quota();
  CHECK_FALSE(q.refresh);
  CHECK_FALSE(q.gpu);
  CHECK_FALSE(q.tpu);
}

TEST_CASE("kaggle auth: Basic for keys, Bearer for tokens, 401 names the call, never the secret")
{
  {
    Rig rig(key_auth());
    rig.client.list_kernels();
    check_basic(last_call(rig.calls()));
    CHECK(rig.client.auth().kind == kaggle::Auth::Kind::key);
  }
  {
    Rig rig(token_auth());
    rig.client.list_kernels();
    rig.client.quota();
    for (const auto& e : rig.calls()) {
      check_bearer(e);
      CHECK(e.dump().find("TESTTOKEN") == std::string::npos);
    }
  }
  struct Wrong {
    kaggle::Auth auth;
    const char* kind;
  };
  for (const auto& w : {Wrong{key_auth("alice", "WRONG-SECRET-1"), "basic"},
                        Wrong{token_auth("WRONG-SECRET-1"), "bearer"}}) {
    CAPTURE(std::string(w.kind));
    Rig rig(w.auth);
    struct Named {
      const char* call;
      std::function<void()> run;
    };
    std::vector<Named> calls = {
        {"SaveKernel", [&] { rig.client.push(push_request("denied")); }},
        {"GetKernelSessionStatus", [&] { rig.client.kernel_status("alice", "denied"); }},
        {"ListKernelSessionOutput", [&] { rig.client.output("alice", "denied"); }},
        {"ListKernels", [&] { rig.client.list_kernels(); }},
        {"GetAcceleratorQuotaStatistics", [&] { rig.client.quota(); }},
    };
    for (const auto& c : calls) {
      CAPTURE(std::string(c.call));
      try {
        c.run();
        FAIL("expected an error");
      } catch (const Error& e) {
        std::string m = e.what();
        CHECK(e.exit_code() == 3);
        CHECK(m.starts_with(std::string("Kaggle ") + c.call +
                            ": the credentials were refused (HTTP 401: Unauthenticated: bad or "
                            "missing credentials)"));
        CHECK(m.find("WRONG-SECRET-1") == std::string::npos);
        CHECK(m.find('\n') == std::string::npos);
      }
      auto e = last_call(rig.calls());
      CHECK(e["status"] == 401);
      CHECK(e["auth"] == w.kind);
      CHECK(e["auth_ok"] == false);
    }
    CHECK(rig.calls().size() == calls.size()); // one attempt each
    CHECK(rig.sleeper.waits.empty());
    for (const auto& l : rig.lines) {
      CHECK(l.find("WRONG-SECRET-1") == std::string::npos);
    }
  }
}

namespace {

/// One client call, its fault route, and whether it may be repeated after an unknown outcome.
struct CallCase {
  const char* name; ///< the RPC method, as the messages name it
  const char* route;
  bool retry_safe;
  std::function<void(Rig&)> run;
};

std::vector<CallCase>
call_cases()
{
  return {
      {"IntrospectToken", "POST /v1/security.OAuthService/IntrospectToken", true,
       [](Rig& r) {
         auto [active, user] = r.client.introspect();
         CHECK(active);
         CHECK(user == "alice");
       }},
      {"SaveKernel", k_save_route, false,
       [](Rig& r) {
         auto pushed = r.client.push(push_request("fault-push"));
         CHECK(pushed.version == 1);
       }},
      {"GetKernelSessionStatus", "POST /v1/kernels.KernelsApiService/GetKernelSessionStatus", true,
       [](Rig& r) {
         auto s = r.client.kernel_status("alice", "ready");
         CHECK(s.status == "COMPLETE");
       }},
      {"ListKernelSessionOutput", "POST /v1/kernels.KernelsApiService/ListKernelSessionOutput", true,
       [](Rig& r) {
         auto out = r.client.output("alice", "ready");
         CHECK(out.files.size() == 3);
       }},
      {"ListKernels", "POST /v1/kernels.KernelsApiService/ListKernels", true,
       [](Rig& r) {
         auto kernels = r.client.list_kernels();
         CHECK(kernels.size() == 1);
       }},
      {"GetAcceleratorQuotaStatistics",
       "POST /v1/kernels.KernelsApiService/GetAcceleratorQuotaStatistics", true,
       [](Rig& r) {
         auto q = r.client.quota();
         REQUIRE(q.gpu);
         CHECK(q.gpu->total_s == 108000);
       }},
  };
}

/// A rig with token auth (every call accepts it) and one completed kernel "ready"; empty log.
std::unique_ptr<Rig>
ready_rig()
{
  auto rig = std::make_unique<Rig>(token_auth());
  completed_kernel(*rig, "ready");
  return rig;
}

/// No secret in the fake's log (but the introspection body, which carries the token by spec),
/// nor in the call log lines.
void
check_no_secret(Rig& rig)
{
  for (const auto& e : rig.calls()) {
    json copy = e;
    if (e["path"] == "/v1/security.OAuthService/IntrospectToken") {
      copy.erase("body");
    }
    CHECK(copy.dump().find("TESTTOKEN") == std::string::npos);
  }
  for (const auto& l : rig.lines) {
    CHECK(l.find("TESTTOKEN") == std::string::npos);
  }
}

/// Waits (bounded, for a delayed answer) until the fake has logged `n` SaveKernel calls.
json
save_calls(Rig& rig, size_t n)
{
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  json calls = rig.calls_of("SaveKernel");
  while (calls.size() < n && std::chrono::steady_clock::now() < deadline) {
    calls = rig.calls_of("SaveKernel");
  }
  return calls;
}

int
kernels_named(Rig& rig, const std::string& ref)
{
  int n = 0;
  const json state = rig.fake.state(); // not `state()["kernels"]` in the loop: a dangling temporary
  for (const auto& k : state["kernels"]) {
    n += k["ref"] == ref;
  }
  return n;
}

} // namespace

TEST_CASE("every kaggle call: 429 with Retry-After waits exactly that, 429 without backs off")
{
  for (const auto& c : call_cases()) {
    CAPTURE(std::string(c.name));
    {
      auto rig = ready_rig();
      rig->fake.fault(c.route, "status", 1, {{"status", 429}, {"retry_after", "3"}});
      CHECK_NOTHROW(c.run(*rig));
      REQUIRE(rig->sleeper.waits.size() == 1);
      CHECK(rig->sleeper.waits[0] == net::Millis(3000));
      auto log = rig->calls();
      REQUIRE(log.size() >= 2);
      CHECK(log[0]["status"] == 429);
      CHECK(log[0]["fault"] == "status");
      CHECK(log[1]["status"] == 200);
      check_no_secret(*rig);
      if (!c.retry_safe) {
        CHECK(kernels_named(*rig, "alice/fault-push") == 1); // the 429 was not acted on
      }
    }
    auto rig = ready_rig();
    rig->fake.fault(c.route, "status", 2, {{"status", 429}});
    CHECK_NOTHROW(c.run(*rig));
    REQUIRE(rig->sleeper.waits.size() == 2);
    // Policy base 0.5 s doubled per attempt, equal jitter: [0.25, 0.5] s then [0.5, 1] s.
    CHECK(rig->sleeper.waits[0] >= net::Millis(250));
    CHECK(rig->sleeper.waits[0] <= net::Millis(500));
    CHECK(rig->sleeper.waits[1] >= net::Millis(500));
    CHECK(rig->sleeper.waits[1] <= net::Millis(1000));
    CHECK(rig->sleeper.waits[1] >= rig->sleeper.waits[0]);
  }
}

TEST_CASE("every kaggle call: 500, timeout, reset, lost answer, malformed and truncated JSON")
{
  for (const char* mode : {"500", "delay", "reset", "after", "malformed", "truncate"}) {
    for (const auto& c : call_cases()) {
      CAPTURE(std::string(c.name));
      CAPTURE(std::string(mode));
      auto rig = ready_rig();
      const std::string m = mode;
      if (m == "500") {
        rig->fake.fault(c.route, "status", 1, {{"status", 500}});
      } else if (m == "delay") {
        rig->fake.fault(c.route, "delay", 1, {{"delay_ms", 900}}); // past the 0.6 s timeout
      } else {
        rig->fake.fault(c.route, mode, 1);
      }
      if (c.retry_safe) {
        CHECK_NOTHROW(c.run(*rig));
        CHECK(rig->sleeper.waits.size() == 1);
      } else {
        try {
          c.run(*rig);
          FAIL("a push must not be repeated blindly");
        } catch (const net::CallError& e) {
          std::string msg = e.what();
          CHECK(e.maybe_delivered());
          CHECK(e.exit_code() == 3);
          CHECK(msg.starts_with("Kaggle SaveKernel: "));
          CHECK(msg.find("may have been carried out") != std::string::npos);
          CHECK(msg.find('\n') == std::string::npos);
          CHECK(msg.find("TESTTOKEN") == std::string::npos);
        }
        CHECK(rig->sleeper.waits.empty());
        CHECK(save_calls(*rig, 1).size() == 1); // exactly one SaveKernel reached the server
        // Whether a kernel exists depends on the fault: a status or reset fault never performs
        // the call; after/malformed/truncate/delay do. Never more than one.
        int made = kernels_named(*rig, "alice/fault-push");
        CHECK(made == ((m == "500" || m == "reset") ? 0 : 1));
      }
      check_no_secret(*rig);
    }
  }
}

TEST_CASE("every kaggle call: retries are bounded and the error names provider, call and status")
{
  for (const auto& c : call_cases()) {
    CAPTURE(std::string(c.name));
    auto rig = ready_rig();
    rig->fake.fault(c.route, "status", 10, {{"status", 503}});
    try {
      c.run(*rig);
      FAIL("expected an error");
    } catch (const Error& e) {
      std::string m = e.what();
      CHECK(e.exit_code() == 3);
      CHECK(m.starts_with(std::string("Kaggle ") + c.name + ": HTTP 503"));
      CHECK(m.find('\n') == std::string::npos);
      CHECK(m.find("TESTTOKEN") == std::string::npos);
    }
    CHECK(rig->sleeper.waits.size() == (c.retry_safe ? 4u : 0u));
    CHECK(rig->calls().size() == (c.retry_safe ? 5u : 1u));
    check_no_secret(*rig);
  }
}

TEST_CASE("every kaggle call: 401 fails at once with the secret redacted")
{
  for (const auto& c : call_cases()) {
    CAPTURE(std::string(c.name));
    auto rig = ready_rig();
    rig->fake.fault(c.route, "status", 1, {{"status", 401}});
    try {
      c.run(*rig);
      FAIL("expected an error");
    } catch (const Error& e) {
      std::string m = e.what();
      CHECK(e.exit_code() == 3);
      CHECK(m.starts_with(std::string("Kaggle ") + c.name + ": the credentials were refused (HTTP 401"));
      CHECK(m.find("TESTTOKEN") == std::string::npos);
      CHECK(m.find('\n') == std::string::npos);
    }
    CHECK(rig->sleeper.waits.empty());
    CHECK(rig->calls().size() == 1);
    check_no_secret(*rig);
  }
}
