// SPDX-License-Identifier: MIT
// fake_kaggle: a stateful fake of the Kaggle public API (kernels push/status/output/logs/list/pull,
// accelerator quota, token introspection) per ../shared/specs/kaggle-api.md and README.md here.
// RPC routes answer under both /v1/ (api.kaggle.com) and /api/v1/ (every other environment, and
// the official CLI pointed at a fake); absolute-form targets are reduced to their path. Everything
// is derived from the fake clock, so answers are deterministic.

#include "fake_common.hpp"

#include <algorithm>
#include <cctype>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <set>
#include <tuple>

namespace {

using gpuctl::fake::AuthKind;
using gpuctl::fake::Call;
using gpuctl::fake::FakeServer;
using gpuctl::fake::HttpError;
using gpuctl::fake::Reply;
using nlohmann::json;
using nlohmann::ordered_json;

// ------------------------------------------------------------------------------------------------
// Policy constants (spec §10, §5.3)

constexpr std::int64_t kDay = 86400;
constexpr std::int64_t kWeek = 7 * kDay;
constexpr std::int64_t kGpuCapS = 12 * 3600;      ///< session cap for CPU and GPU runs
constexpr std::int64_t kTpuCapS = 9 * 3600;       ///< session cap for TPU runs
constexpr int kMaxGpuSessions = 2;                ///< GPU runs at once per account
constexpr std::int64_t kUrlLifetimeS = 3600;      ///< validity of a signed output URL
constexpr std::int64_t kFirstKernelId = 4242;
constexpr std::int64_t kDefaultGpuTotalS = 108000; ///< 30 h
constexpr std::int64_t kDefaultTpuTotalS = 72000;  ///< 20 h
constexpr const char* kGpuRefusal = "Maximum batch GPU session count of 2 reached.";
constexpr const char* kTimeoutMessage =
    "Your notebook was stopped because it exceeded the max allowed execution duration.";
constexpr const char* kDefaultFailure =
    "Your notebook tried to allocate more memory than is available.";

// ------------------------------------------------------------------------------------------------
// Formatting helpers

/// RFC 3339 UTC timestamp with `Z`, whole seconds.
std::string rfc3339(std::int64_t t) {
    std::time_t tt = static_cast<std::time_t>(t);
    std::tm tm{};
    gmtime_r(&tt, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

/// RFC 7231 HTTP-date (Last-Modified).
std::string http_date(std::int64_t t) {
    std::time_t tt = static_cast<std::time_t>(t);
    std::tm tm{};
    gmtime_r(&tt, &tm);
    char buf[40];
    std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    return buf;
}

/// The compact UTC stamp of a signed URL's X-Goog-Date (YYYYMMDDTHHMMSSZ).
std::string goog_date(std::int64_t t) {
    std::time_t tt = static_cast<std::time_t>(t);
    std::tm tm{};
    gmtime_r(&tt, &tm);
    char buf[20];
    std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
    return buf;
}

/// Parses `YYYY-MM-DDTHH:MM:SS[.fff]Z` to epoch seconds (fraction dropped).
std::optional<std::int64_t> parse_rfc3339(const std::string& s) {
    std::tm tm{};
    int consumed = 0;
    if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                    &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &consumed) != 6)
        return std::nullopt;
    std::size_t i = static_cast<std::size_t>(consumed);
    if (i < s.size() && s[i] == '.') {
        ++i;
        while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])) != 0)
            ++i;
    }
    if (i + 1 != s.size() || s[i] != 'Z')
        return std::nullopt;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return static_cast<std::int64_t>(timegm(&tm));
}

/// The first Saturday 00:00 UTC strictly after `t` (Kaggle's weekly quota reset).
std::int64_t next_saturday(std::int64_t t) {
    const std::int64_t day = t / kDay;
    const std::int64_t weekday = (day + 4) % 7; // 1970-01-01 was a Thursday; Sunday = 0
    std::int64_t ahead = (6 - weekday + 7) % 7;
    if (ahead == 0)
        ahead = 7;
    return (day + ahead) * kDay;
}

/// 64-bit FNV-1a as 16 hex digits: the deterministic "signature" of an output URL.
std::string fnv_hex(const std::string& s) {
    std::uint64_t h = 1469598103934665603ULL;
    for (unsigned char c : s) {
        h ^= c;
        h *= 1099511628211ULL;
    }
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016" PRIx64, h);
    return buf;
}

/// Lower-cased copy.
std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

/// The string field `key` of a request object ("" when absent or not a string).
std::string str_field(const json& body, const char* key) {
    auto it = body.find(key);
    return it != body.end() && it->is_string() ? it->get<std::string>() : std::string();
}

/// The integer field `key` of a request object, `fallback` when absent; throws `bad` when present
/// but not an integer.
std::int64_t int_field(const json& body, const char* key, std::int64_t fallback, const Reply& bad) {
    auto it = body.find(key);
    if (it == body.end() || it->is_null())
        return fallback;
    if (!it->is_number_integer())
        throw HttpError{bad};
    return it->get<std::int64_t>();
}

/// The string-list field `key` of a request object (empty when absent).
std::vector<std::string> list_field(const json& body, const char* key) {
    std::vector<std::string> out;
    auto it = body.find(key);
    if (it != body.end() && it->is_array())
        for (const auto& v : *it)
            if (v.is_string())
                out.push_back(v.get<std::string>());
    return out;
}

// ------------------------------------------------------------------------------------------------
// State model

/// The accelerator a session runs on, which decides its quota and cap.
enum class Accel { none, gpu, tpu };

/// KernelWorkerStatus values the fake produces (spec §4).
enum class Status { queued, running, complete, error };

/// One pushed version and its run.
struct Session {
    int version = 0;
    std::int64_t pushed_at = 0;
    std::int64_t queued_s = 0;
    std::int64_t run_s = 0;
    std::int64_t limit_s = 0;   ///< min(sessionTimeoutSeconds, cap)
    bool fails = false;         ///< outcome ERROR instead of COMPLETE (when not timed out)
    std::string failure;        ///< failureMessage of a failing run
    Accel accel = Accel::none;
    std::string shape;          ///< effective machine shape ("" for CPU)
    std::string text;           ///< the source pushed

    std::int64_t start() const { return pushed_at + queued_s; }
    std::int64_t end() const { return start() + std::min(run_s, limit_s); }
    bool timed_out() const { return run_s > limit_s; }
    bool live(std::int64_t now) const { return now < end(); }

    /// Status at fake time `now`.
    Status status(std::int64_t now) const {
        if (now < start())
            return Status::queued;
        if (now < end())
            return Status::running;
        return timed_out() || fails ? Status::error : Status::complete;
    }
    /// failureMessage of an ended, failed run ("" otherwise).
    std::string failure_message(std::int64_t now) const {
        if (status(now) != Status::error)
            return "";
        return timed_out() ? kTimeoutMessage : failure;
    }
    /// Accelerator seconds used inside [from, now).
    std::int64_t used_between(std::int64_t from, std::int64_t now) const {
        const std::int64_t a = std::max(from, start());
        const std::int64_t b = std::min(now, end());
        return std::max<std::int64_t>(0, b - a);
    }
};

/// A kernel (notebook or script) and its versions.
struct Kernel {
    std::int64_t id = 0;
    std::string owner, slug, title, language, kernel_type;
    bool is_private = true, enable_gpu = false, enable_internet = true, enable_tpu = false;
    std::vector<std::string> datasets, kernels, competitions, models, categories;
    std::string docker_image;
    std::vector<Session> sessions; ///< versions in order; never empty

    std::string ref() const { return owner + "/" + slug; }
};

/// Lifecycle settings for the next pushed runs (/__control/kernel_timing).
struct Timing {
    std::int64_t queued_s = 30;
    std::int64_t run_s = 600;
    bool fails = false;
    std::string failure = kDefaultFailure;
};

/// One user's weekly quota figures (/__control/quota). Used time = `base_ms` (as set at
/// `base_at`) + accelerator time of the user's runs since `base_at`.
struct Quota {
    std::int64_t base_ms = 0;
    std::int64_t base_at = gpuctl::fake::kClockStart;
    std::int64_t gpu_total_s = kDefaultGpuTotalS;
    std::int64_t refresh = next_saturday(gpuctl::fake::kClockStart);
    bool fraction = false; ///< durations as "N.fffs" instead of whole "Ns"
};

/// The whole fake: credentials, kernels, quotas, settings.
struct State {
    std::map<std::string, std::string> basic{{"alice", "TESTKEY"}}; ///< user -> key
    std::map<std::string, std::string> tokens{{"TESTTOKEN", "alice"}}; ///< token -> user
    std::map<std::string, Kernel> kernels;                              ///< by "owner/slug"
    std::map<std::string, Quota> quotas;                                ///< by user
    std::int64_t next_id = kFirstKernelId;
    Timing timing;
    bool camel_status = false;
    bool flat_errors = false;
};

// ------------------------------------------------------------------------------------------------
// The fake

/// Routes, control calls and state of fake_kaggle.
class FakeKaggle {
public:
    explicit FakeKaggle(FakeServer& server) : server_(server) {}

    /// Registers every route, control and hook on the server.
    void install();

private:
    // errors and auth
    Reply error(int status, const std::string& message) const;
    [[noreturn]] void fail(int status, const std::string& message) const;
    std::string authenticate(Call& call) const;
    json rpc_body(const Call& call) const;
    Kernel& find_kernel(const std::string& user, const json& body);
    std::int64_t user_id(const std::string& user) const;

    // derived figures
    std::string status_name(Status s) const;
    Quota& quota(const std::string& user, std::int64_t now);
    json quota_json(const std::string& user, std::int64_t now);
    json metadata(const Kernel& k) const;
    static ordered_json log_entries(const Session& s, std::int64_t now);
    static std::vector<std::pair<std::string, std::string>> output_files(const Kernel& k,
                                                                         const Session& s);
    std::string signed_url(const Call& call, const Kernel& k, const Session& s,
                           const std::string& file) const;

    // route groups
    void install_auth_routes();
    void install_push_routes();
    void install_session_routes();
    void install_listing_routes();
    void install_file_routes();
    void install_controls();
    json state_json(std::int64_t now);

    FakeServer& server_;
    State state_;
};

// ---- errors and auth -----------------------------------------------------------------------------

/// gRPC status name of an HTTP status (the nested error body's `status`).
const char* grpc_status(int status) {
    switch (status) {
    case 400: return "INVALID_ARGUMENT";
    case 401: return "UNAUTHENTICATED";
    case 403: return "PERMISSION_DENIED";
    case 404: return "NOT_FOUND";
    case 405: return "UNIMPLEMENTED";
    case 409: return "ABORTED";
    case 429: return "RESOURCE_EXHAUSTED";
    case 501: return "UNIMPLEMENTED";
    case 503: return "UNAVAILABLE";
    case 504: return "DEADLINE_EXCEEDED";
    default: return status >= 500 ? "INTERNAL" : "FAILED_PRECONDITION";
    }
}

/// The usual message of an error status (fault bodies, unknown routes).
std::string default_message(int status) {
    switch (status) {
    case 400: return "Invalid request";
    case 401: return "Unauthenticated: bad or missing credentials";
    case 403: return "Permission denied";
    case 404: return "Not found";
    case 405: return "Method not allowed";
    case 429: return "Too many requests";
    case 503: return "Service unavailable";
    default: return status >= 500 ? "Internal error" : "Request failed";
    }
}

Reply FakeKaggle::error(int status, const std::string& message) const {
    if (state_.flat_errors)
        return Reply::json(status, {{"code", status}, {"message", message}});
    return Reply::json(status, {{"error", {{"code", status}, {"message", message},
                                           {"status", grpc_status(status)}}}});
}

void FakeKaggle::fail(int status, const std::string& message) const {
    throw HttpError{error(status, message)};
}

/// Checks the Authorization header (Basic user:key or Bearer token); answers 401 otherwise.
std::string FakeKaggle::authenticate(Call& call) const {
    if (auto token = call.bearer()) {
        auto it = state_.tokens.find(*token);
        call.set_auth(AuthKind::bearer, it != state_.tokens.end());
        if (it != state_.tokens.end())
            return it->second;
    } else if (auto basic = call.basic()) {
        auto it = state_.basic.find(basic->first);
        const bool ok = it != state_.basic.end() && it->second == basic->second;
        call.set_auth(AuthKind::basic, ok);
        if (ok)
            return basic->first;
    }
    fail(401, default_message(401));
}

/// The RPC request message: a JSON object, else 400.
json FakeKaggle::rpc_body(const Call& call) const {
    json body = call.json_body(error(400, "Invalid JSON payload received."));
    if (!body.is_object())
        fail(400, "Invalid JSON payload received: expected an object.");
    return body;
}

/// The kernel named by `userName` + `kernelSlug` (a `/VERSION` suffix is ignored here), readable by
/// `user`: 404 when unknown, 403 when another user's private kernel.
Kernel& FakeKaggle::find_kernel(const std::string& user, const json& body) {
    const std::string owner = str_field(body, "userName");
    std::string slug = str_field(body, "kernelSlug");
    slug = slug.substr(0, slug.find('/'));
    if (owner.empty() || slug.empty())
        fail(400, "userName and kernelSlug are required");
    auto it = state_.kernels.find(owner + "/" + slug);
    if (it == state_.kernels.end())
        fail(404, "Kernel not found");
    if (it->second.is_private && it->second.owner != user)
        fail(403, "Permission 'kernels.get' was denied");
    return it->second;
}

/// Deterministic numeric id of a user: 1001 + rank among all known user names.
std::int64_t FakeKaggle::user_id(const std::string& user) const {
    std::set<std::string> users;
    for (const auto& [name, key] : state_.basic)
        users.insert(name);
    for (const auto& [token, name] : state_.tokens)
        users.insert(name);
    users.insert(user);
    return 1001 + std::distance(users.begin(), users.find(user));
}

// ---- derived figures -----------------------------------------------------------------------------

std::string FakeKaggle::status_name(Status s) const {
    switch (s) {
    case Status::queued: return state_.camel_status ? "queued" : "QUEUED";
    case Status::running: return state_.camel_status ? "running" : "RUNNING";
    case Status::complete: return state_.camel_status ? "complete" : "COMPLETE";
    case Status::error: return state_.camel_status ? "error" : "ERROR";
    }
    return "";
}

/// The user's quota, rolled over to the current weekly window.
Quota& FakeKaggle::quota(const std::string& user, std::int64_t now) {
    Quota& q = state_.quotas[user];
    while (now >= q.refresh) {
        q.base_ms = 0;
        q.base_at = q.refresh;
        q.refresh += kWeek;
    }
    return q;
}

/// A protobuf Duration: "Ns", or "N.fffs" in the fractional style.
std::string duration(std::int64_t ms, bool fraction) {
    char buf[40];
    if (fraction)
        std::snprintf(buf, sizeof buf, "%" PRId64 ".%03" PRId64 "s", ms / 1000, ms % 1000);
    else
        std::snprintf(buf, sizeof buf, "%" PRId64 "s", ms / 1000);
    return buf;
}

/// GetAcceleratorQuotaStatistics answer for `user` (spec §7): used = figure set by control plus
/// the runs since; reserved = what running sessions may still take up to their limit.
json FakeKaggle::quota_json(const std::string& user, std::int64_t now) {
    const Quota& q = quota(user, now);
    std::int64_t used[2] = {0, 0}, reserved[2] = {0, 0};
    bool ever[2] = {q.base_ms > 0, false};
    for (const auto& [ref, k] : state_.kernels) {
        if (k.owner != user)
            continue;
        for (const Session& s : k.sessions) {
            if (s.accel == Accel::none)
                continue;
            const int i = s.accel == Accel::gpu ? 0 : 1;
            used[i] += s.used_between(q.base_at, now) * 1000;
            if (s.status(now) == Status::running)
                reserved[i] += (s.start() + s.limit_s - now) * 1000;
            ever[i] = ever[i] || now >= s.start();
        }
    }
    used[0] += q.base_ms;
    auto figures = [&](int i, std::int64_t total_s) {
        return json{{"timeUsed", duration(used[i], q.fraction)},
                    {"timeReserved", duration(reserved[i], q.fraction)},
                    {"totalTimeAllowed", duration(total_s * 1000, q.fraction)},
                    {"minimumTimeAllowed", duration(total_s * 1000, q.fraction)},
                    {"isPayToScaleEnabled", false},
                    {"hasEverRun", ever[i]}};
    };
    return {{"quotaRefreshTime", rfc3339(q.refresh)},
            {"gpuQuota", figures(0, q.gpu_total_s)},
            {"tpuQuota", figures(1, kDefaultTpuTotalS)}};
}

/// ApiKernelMetadata of a kernel (spec §6.1); default-valued fields are omitted (spec §1.4).
json FakeKaggle::metadata(const Kernel& k) const {
    const Session& last = k.sessions.back();
    json m = {{"id", k.id},
              {"ref", k.ref()},
              {"title", k.title},
              {"author", k.owner},
              {"slug", k.slug},
              {"lastRunTime", rfc3339(last.pushed_at)},
              {"language", k.language},
              {"kernelType", k.kernel_type},
              {"isPrivate", k.is_private},
              {"enableGpu", k.enable_gpu},
              {"enableInternet", k.enable_internet},
              {"enableTpu", k.enable_tpu},
              {"currentVersionNumber", last.version}};
    const std::pair<const char*, const std::vector<std::string>*> lists[] = {
        {"categoryIds", &k.categories},       {"datasetDataSources", &k.datasets},
        {"kernelDataSources", &k.kernels},    {"competitionDataSources", &k.competitions},
        {"modelDataSources", &k.models}};
    for (const auto& [key, list] : lists)
        if (!list->empty())
            m[key] = *list;
    if (!k.docker_image.empty())
        m["dockerImage"] = k.docker_image;
    if (!last.shape.empty())
        m["machineShape"] = last.shape;
    return m;
}

/// The run's log as a JSON array of `{"stream_name", "time", "data"}` (spec §5.1): the entries
/// visible at `now` (all of them once the run ended), times relative to the run's start.
ordered_json FakeKaggle::log_entries(const Session& s, std::int64_t now) {
    auto entry = [](const char* stream, double time, const std::string& data) {
        return ordered_json{{"stream_name", stream}, {"time", time}, {"data", data}};
    };
    ordered_json all = ordered_json::array({entry("stdout", 1.25, "starting\n"),
                                            entry("stderr", 2.5, "warning: something\n")});
    if (s.status(now) == Status::error)
        all.push_back(entry("stderr", 3.75, s.failure_message(now) + "\n"));
    else
        all.push_back(entry("stdout", 3.75, "done\n"));
    if (!s.live(now))
        return all;
    const double elapsed = static_cast<double>(now - s.start());
    ordered_json visible = ordered_json::array();
    for (const auto& e : all)
        if (e["time"].get<double>() <= elapsed)
            visible.push_back(e);
    return visible;
}

/// The output files of an ended run as (fileName, content): three for a completed run (one in a
/// sub-directory), none for a failed one.
std::vector<std::pair<std::string, std::string>> FakeKaggle::output_files(const Kernel& k,
                                                                           const Session& s) {
    if (s.fails || s.timed_out())
        return {};
    return {{"result.json", "{\"kernel\": \"" + k.ref() + "\", \"version\": " +
                                std::to_string(s.version) + ", \"ok\": true}\n"},
            {"model/weights.bin", std::string("\x00\x01\x02\x03WEIGHTS", 11)},
            {"submission.csv", "id,target\n1,0.5\n"}};
}

/// A signed-looking URL for an output file, served by this fake (GET /__files/..., no auth) and
/// valid for kUrlLifetimeS from now. The host is the one the client used.
std::string FakeKaggle::signed_url(const Call& call, const Kernel& k, const Session& s,
                                   const std::string& file) const {
    std::string host = call.req.get_header_value("Host");
    if (host.empty())
        host = "127.0.0.1";
    const std::string path =
        "/__files/" + k.ref() + "/" + std::to_string(s.version) + "/" + file;
    const std::string date = goog_date(call.now);
    return "http://" + host + path +
           "?X-Goog-Algorithm=GOOG4-RSA-SHA256&X-Goog-Date=" + date +
           "&X-Goog-Expires=" + std::to_string(kUrlLifetimeS) +
           "&X-Goog-Signature=" + fnv_hex(path + "|" + date);
}

// ---- install -------------------------------------------------------------------------------------

void FakeKaggle::install() {
    // "/api/v1/x" and "/v1/x" are one route; an absolute-form target keeps only its path.
    server_.set_path_normaliser([](const std::string& raw) {
        std::string path = raw;
        if (path.rfind("http://", 0) == 0 || path.rfind("https://", 0) == 0) {
            const auto slash = path.find('/', path.find("//") + 2);
            path = slash == std::string::npos ? "/" : path.substr(slash);
        }
        if (path.rfind("/api/v1/", 0) == 0)
            path.erase(0, 4);
        return path;
    });
    server_.set_default_error([this](int status) { return error(status, default_message(status)); });
    server_.on_reset([this] { state_ = State{}; });
    server_.on_state([this](std::int64_t now) { return state_json(now); });
    install_auth_routes();
    install_push_routes();
    install_session_routes();
    install_listing_routes();
    install_file_routes();
    install_controls();
}

// ---- security.OAuthService (spec §2.3) ----------------------------------------------------------

void FakeKaggle::install_auth_routes() {
    server_.route("POST", "/v1/security.OAuthService/IntrospectToken", [this](Call& call) {
        if (auto bearer = call.bearer())
            call.set_auth(AuthKind::bearer, state_.tokens.count(*bearer) > 0);
        const json body = rpc_body(call);
        const std::string token = str_field(body, "token");
        if (token.empty())
            fail(400, "token is required");
        auto it = state_.tokens.find(token);
        if (it == state_.tokens.end())
            return Reply::json(200, {{"active", false}});
        return Reply::json(200, {{"active", true},
                                 {"clientId", "kaggle-cli"},
                                 {"username", it->second},
                                 {"userId", user_id(it->second)},
                                 {"scope", "resources.admin:*"},
                                 {"exp", call.now + 30 * kDay}});
    });
}

// ---- SaveKernel (spec §3) -----------------------------------------------------------------------

/// What `machineShape` (and the legacy flags) select, with retired shapes substituted (§3.5).
std::pair<Accel, std::string> pick_machine(const std::string& shape, bool gpu, bool tpu) {
    if (shape == "NvidiaTeslaP100" || lower(shape) == "gpu")
        return {Accel::gpu, "NvidiaTeslaT4"};
    if (shape == "TpuV38" || shape == "Tpu1VmV38")
        return {Accel::tpu, "TpuV5E8"};
    if (shape.rfind("Nvidia", 0) == 0)
        return {Accel::gpu, shape};
    if (shape.rfind("Tpu", 0) == 0)
        return {Accel::tpu, shape};
    if (gpu)
        return {Accel::gpu, shape.empty() ? "NvidiaTeslaT4" : shape};
    if (tpu)
        return {Accel::tpu, shape.empty() ? "TpuV5E8" : shape};
    return {Accel::none, shape};
}

/// Sources the server drops as unknown: by the fake's convention, those with a `/`-separated part
/// starting with "missing" (e.g. "alice/missing-data"). The official CLI checks the form itself.
std::vector<std::string> invalid_sources(const std::vector<std::string>& sources) {
    std::vector<std::string> bad;
    for (const std::string& source : sources)
        if (source.rfind("missing", 0) == 0 || source.find("/missing") != std::string::npos)
            bad.push_back(source);
    return bad;
}

/// `valid` without the entries of `bad`.
std::vector<std::string> without(const std::vector<std::string>& valid,
                                 const std::vector<std::string>& bad) {
    std::vector<std::string> out;
    for (const auto& v : valid)
        if (std::find(bad.begin(), bad.end(), v) == bad.end())
            out.push_back(v);
    return out;
}

void FakeKaggle::install_push_routes() {
    server_.route("POST", "/v1/kernels.KernelsApiService/SaveKernel", [this](Call& call) {
        const std::string user = authenticate(call);
        const json body = rpc_body(call);
        auto refuse = [](const std::string& why) { return Reply::json(200, {{"error", why}}); };

        // Which kernel: `id` wins over `slug` (spec §3.1); an unknown id or another user's
        // kernel is refused like the real "Kernel push error: Kernel not found".
        Kernel* kernel = nullptr;
        std::string ref = str_field(body, "slug");
        if (ref.find('/') == std::string::npos)
            ref = user + "/" + ref;
        if (auto id = body.find("id"); id != body.end() && id->is_number_integer()) {
            for (auto& [r, k] : state_.kernels)
                if (k.id == id->get<std::int64_t>())
                    kernel = &k;
            if (kernel == nullptr)
                return refuse("Kernel not found");
            ref = kernel->ref();
        } else if (auto it = state_.kernels.find(ref); it != state_.kernels.end()) {
            kernel = &it->second;
        }
        const std::string owner = ref.substr(0, ref.find('/'));
        const std::string slug = ref.substr(ref.find('/') + 1);
        if (owner != user)
            return refuse("Kernel not found");
        if (kernel == nullptr && (slug.empty() || str_field(body, "text").empty() ||
                                  str_field(body, "language").empty() ||
                                  str_field(body, "kernelType").empty()))
            fail(400, "A new kernel needs slug, text, language and kernelType");
        if (kernel != nullptr && body.contains("kernelType") &&
            str_field(body, "kernelType") != kernel->kernel_type)
            fail(400, "The kernel type of an existing kernel cannot be changed");

        // The run's accelerator and limit; a third GPU run at once is refused (spec §10).
        auto flag = [&](const char* key, bool fallback) {
            auto it = body.find(key);
            return it != body.end() && it->is_boolean() ? it->get<bool>() : fallback;
        };
        const bool gpu = flag("enableGpu", kernel != nullptr && kernel->enable_gpu);
        const bool tpu = flag("enableTpu", kernel != nullptr && kernel->enable_tpu);
        const auto [accel, shape] = pick_machine(str_field(body, "machineShape"), gpu, tpu);
        if (accel == Accel::gpu) {
            int live = 0;
            for (const auto& [r, k] : state_.kernels)
                for (const Session& s : k.sessions)
                    live += k.owner == user && s.accel == Accel::gpu && s.live(call.now);
            if (live >= kMaxGpuSessions)
                return refuse(kGpuRefusal);
        }

        if (kernel == nullptr) {
            Kernel k;
            k.id = state_.next_id++;
            k.owner = owner;
            k.slug = slug;
            k.title = slug;
            k.language = str_field(body, "language");
            k.kernel_type = str_field(body, "kernelType");
            kernel = &state_.kernels.emplace(ref, std::move(k)).first->second;
        }
        Kernel& k = *kernel;
        if (!str_field(body, "newTitle").empty())
            k.title = str_field(body, "newTitle");
        if (!str_field(body, "language").empty())
            k.language = str_field(body, "language");
        k.is_private = flag("isPrivate", k.is_private);
        k.enable_gpu = gpu;
        k.enable_tpu = tpu;
        k.enable_internet = flag("enableInternet", k.enable_internet);
        if (body.contains("dockerImage"))
            k.docker_image = str_field(body, "dockerImage");

        json answer = {{"ref", "/code/" + k.ref()}, {"url", "https://www.kaggle.com/code/" + k.ref()}};
        const std::tuple<const char*, const char*, std::vector<std::string>*> sources[] = {
            {"datasetDataSources", "invalidDatasetSources", &k.datasets},
            {"kernelDataSources", "invalidKernelSources", &k.kernels},
            {"competitionDataSources", "invalidCompetitionSources", &k.competitions},
            {"modelDataSources", "invalidModelSources", &k.models}};
        for (const auto& [key, invalid_key, list] : sources) {
            const auto given = list_field(body, key);
            const auto bad = invalid_sources(given);
            *list = without(given, bad);
            if (!bad.empty())
                answer[invalid_key] = bad;
        }
        k.categories = list_field(body, "categoryIds");

        Session s;
        s.version = k.sessions.empty() ? 1 : k.sessions.back().version + 1;
        s.pushed_at = call.now;
        s.queued_s = state_.timing.queued_s;
        s.run_s = state_.timing.run_s;
        s.fails = state_.timing.fails;
        s.failure = state_.timing.failure;
        s.accel = accel;
        s.shape = shape;
        const std::int64_t cap = accel == Accel::tpu ? kTpuCapS : kGpuCapS;
        const auto timeout = int_field(body, "sessionTimeoutSeconds", 0,
                                       error(400, "sessionTimeoutSeconds must be an integer"));
        s.limit_s = timeout > 0 ? std::min(timeout, cap) : cap;
        s.text = body.contains("text") ? str_field(body, "text") : k.sessions.back().text;
        k.sessions.push_back(std::move(s));

        answer["versionNumber"] = k.sessions.back().version;
        answer["kernelId"] = k.id;
        return Reply::json(200, answer);
    });
}

// ---- status, output, logs, cancel (spec §4, §5, §8) ---------------------------------------------

void FakeKaggle::install_session_routes() {
    server_.route("POST", "/v1/kernels.KernelsApiService/GetKernelSessionStatus", [this](Call& call) {
        const std::string user = authenticate(call);
        const Kernel& k = find_kernel(user, rpc_body(call));
        const Session& s = k.sessions.back();
        json answer = {{"status", status_name(s.status(call.now))}};
        if (const std::string why = s.failure_message(call.now); !why.empty())
            answer["failureMessage"] = why;
        return Reply::json(200, answer);
    });

    server_.route("POST", "/v1/kernels.KernelsApiService/ListKernelSessionOutput", [this](Call& call) {
        const std::string user = authenticate(call);
        const json body = rpc_body(call);
        const Kernel& k = find_kernel(user, body);
        const Session& s = k.sessions.back();
        auto page_size = int_field(body, "pageSize", 0, error(400, "pageSize must be an integer"));
        page_size = page_size <= 0 ? 20 : std::min<std::int64_t>(page_size, 200);
        std::size_t offset = 0;
        if (const std::string token = str_field(body, "pageToken"); !token.empty()) {
            if (token.rfind("next-", 0) != 0 || token.size() == 5 || token.size() > 12 ||
                token.find_first_not_of("0123456789", 5) != std::string::npos)
                fail(400, "Invalid page token");
            offset = std::stoul(token.substr(5));
        }
        json answer = json::object();
        const auto files = s.live(call.now) ? decltype(output_files(k, s)){} : output_files(k, s);
        if (offset < files.size()) {
            json list = json::array();
            const std::size_t stop = std::min(files.size(), offset + static_cast<std::size_t>(page_size));
            for (std::size_t i = offset; i < stop; ++i)
                list.push_back({{"url", signed_url(call, k, s, files[i].first)},
                                {"fileName", files[i].first}});
            answer["files"] = list;
            if (stop < files.size())
                answer["nextPageToken"] = "next-" + std::to_string(stop);
        }
        if (const auto entries = log_entries(s, call.now); !entries.empty())
            answer["log"] = entries.dump();
        return Reply::json(200, answer);
    });

    // `kaggle kernels logs -f`: SSE while the run is queued or running (the events so far; the
    // connection then ends without END_OF_LOG, as when a load balancer cuts it), the persisted log
    // as a JSON array once it ended.
    server_.route("GET", "/v1/kernels/logs/stream/*/*", [this](Call& call) {
        const std::string user = authenticate(call);
        const Kernel& k = find_kernel(user, {{"userName", call.wild[0]}, {"kernelSlug", call.wild[1]}});
        const Session& s = k.sessions.back();
        const auto entries = log_entries(s, call.now);
        if (!s.live(call.now))
            return Reply{200, "application/json", entries.dump(), {}};
        std::string events;
        for (const auto& e : entries)
            events += "data: " + e.dump() + "\n\n";
        Reply reply = Reply::text(200, events);
        reply.content_type = "text/event-stream";
        return reply;
    });

    server_.route("POST", "/v1/kernels.KernelsApiService/CancelKernelSession",
                  [this](Call& call) -> Reply {
                      authenticate(call);
                      rpc_body(call);
                      fail(403, "Permission 'kernelSessions.cancel' was denied");
                  });
}

// ---- ListKernels, GetKernel, quota (spec §6, §7) ------------------------------------------------

void FakeKaggle::install_listing_routes() {
    server_.route("POST", "/v1/kernels.KernelsApiService/ListKernels", [this](Call& call) {
        const std::string user = authenticate(call);
        const json body = rpc_body(call);
        const std::string group = str_field(body, "group");
        const std::string author = str_field(body, "user");
        const std::string search = lower(str_field(body, "search"));
        const std::string type = str_field(body, "kernelType");
        const std::string language = str_field(body, "language");
        const std::string dataset = str_field(body, "dataset");
        const std::string competition = str_field(body, "competition");
        auto has = [](const std::vector<std::string>& v, const std::string& x) {
            return std::find(v.begin(), v.end(), x) != v.end();
        };
        std::vector<const Kernel*> hits;
        for (const auto& [ref, k] : state_.kernels) {
            const bool mine = k.owner == user;
            bool in_group = false;
            if (group == "PROFILE")
                in_group = mine;
            else if (group.empty() || group == "EVERYONE")
                in_group = !k.is_private;
            else if (group == "PUBLIC_AND_USERS_PRIVATE")
                in_group = !k.is_private || mine;
            if (!in_group || (!author.empty() && k.owner != author) ||
                (!search.empty() && lower(k.title).find(search) == std::string::npos &&
                 k.slug.find(search) == std::string::npos) ||
                (!type.empty() && type != "all" && k.kernel_type != type) ||
                (!language.empty() && language != "all" && k.language != language) ||
                (!dataset.empty() && !has(k.datasets, dataset)) ||
                (!competition.empty() && !has(k.competitions, competition)) ||
                !str_field(body, "parentKernel").empty())
                continue;
            hits.push_back(&k);
        }
        const std::string sort = str_field(body, "sortBy");
        std::stable_sort(hits.begin(), hits.end(), [&](const Kernel* a, const Kernel* b) {
            if (sort == "DATE_RUN")
                return a->sessions.back().pushed_at > b->sessions.back().pushed_at;
            if (sort == "DATE_CREATED")
                return a->id > b->id;
            return a->id < b->id;
        });
        auto page = int_field(body, "page", 1, error(400, "page must be an integer"));
        if (const std::string token = str_field(body, "pageToken"); !token.empty()) {
            if (token.size() > 9 || token.find_first_not_of("0123456789") != std::string::npos)
                fail(400, "Invalid page token");
            page = std::stoll(token);
        }
        const std::int64_t size = std::clamp<std::int64_t>(
            int_field(body, "pageSize", 20, error(400, "pageSize must be an integer")), 1, 100);
        page = std::max<std::int64_t>(page, 1);
        json list = json::array();
        const auto from = static_cast<std::size_t>((page - 1) * size);
        for (std::size_t i = from; i < hits.size() && i < from + static_cast<std::size_t>(size); ++i)
            list.push_back(metadata(*hits[i]));
        json answer = {{"kernels", list}};
        if (from + static_cast<std::size_t>(size) < hits.size())
            answer["nextPageToken"] = std::to_string(page + 1);
        return Reply::json(200, answer);
    });

    server_.route("POST", "/v1/kernels.KernelsApiService/GetKernel", [this](Call& call) {
        const std::string user = authenticate(call);
        const json body = rpc_body(call);
        const Kernel& k = find_kernel(user, body);
        // "slug/VERSION" in kernelSlug (spec §6.2) or versionLabel selects an older version.
        const std::string slug = str_field(body, "kernelSlug");
        std::string label = slug.find('/') == std::string::npos ? str_field(body, "versionLabel")
                                                                 : slug.substr(slug.find('/') + 1);
        const Session* s = &k.sessions.back();
        if (!label.empty()) {
            auto it = std::find_if(k.sessions.begin(), k.sessions.end(), [&](const Session& v) {
                return std::to_string(v.version) == label;
            });
            if (it == k.sessions.end())
                fail(404, "Kernel version not found");
            s = &*it;
        }
        return Reply::json(200, {{"metadata", metadata(k)},
                                 {"blob", {{"source", s->text},
                                           {"language", k.language},
                                           {"kernelType", k.kernel_type},
                                           {"slug", k.slug}}}});
    });

    server_.route("POST", "/v1/kernels.KernelsApiService/GetAcceleratorQuotaStatistics",
                  [this](Call& call) {
                      const std::string user = authenticate(call);
                      rpc_body(call);
                      return Reply::json(200, quota_json(user, call.now));
                  });
}

// ---- signed output URLs (spec §5.3) -------------------------------------------------------------

void FakeKaggle::install_file_routes() {
    // /__files/OWNER/SLUG/VERSION/NAME[/NAME...]: no auth; 403 (GCS-style XML) on a bad or
    // expired signature, 404 when the file does not exist (yet).
    auto serve = [this](Call& call) {
        call.set_auth(AuthKind::none, true);
        auto xml = [](int status, const std::string& code, const std::string& message) {
            Reply r;
            r.status = status;
            r.content_type = "application/xml; charset=UTF-8";
            r.body = "<?xml version='1.0' encoding='UTF-8'?><Error><Code>" + code +
                     "</Code><Message>" + message + "</Message></Error>";
            return r;
        };
        const std::string date = call.param("X-Goog-Date").value_or("");
        if (call.param("X-Goog-Signature").value_or("") != fnv_hex(call.path + "|" + date))
            return xml(403, "SignatureDoesNotMatch",
                       "The request signature we calculated does not match the signature you provided.");
        std::tm tm{};
        if (strptime(date.c_str(), "%Y%m%dT%H%M%SZ", &tm) == nullptr ||
            call.now >= timegm(&tm) + kUrlLifetimeS)
            return xml(403, "ExpiredToken", "The provided token has expired.");
        const std::string ref = call.wild[0] + "/" + call.wild[1];
        std::string name = call.wild[3];
        for (std::size_t i = 4; i < call.wild.size(); ++i)
            name += "/" + call.wild[i];
        auto it = state_.kernels.find(ref);
        if (it != state_.kernels.end())
            for (const Session& s : it->second.sessions)
                if (std::to_string(s.version) == call.wild[2] && !s.live(call.now))
                    for (const auto& [file, content] : output_files(it->second, s))
                        if (file == name) {
                            Reply r;
                            r.content_type = "application/octet-stream";
                            r.body = content;
                            r.headers.emplace_back("Last-Modified", http_date(s.end()));
                            return r;
                        }
        return xml(404, "NoSuchKey", "The specified key does not exist.");
    };
    server_.route("GET", "/__files/*/*/*/*", serve);
    server_.route("GET", "/__files/*/*/*/*/*", serve);
}

// ---- control (README "fake_kaggle specifics") ---------------------------------------------------

/// A control body as a JSON object, else 400.
json control_body(const Call& call) {
    json body = call.json_body(Reply::json(400, {{"error", "body must be JSON"}}));
    if (!body.is_object())
        throw HttpError{Reply::json(400, {{"error", "body must be a JSON object"}})};
    return body;
}

[[noreturn]] void bad_control(const std::string& why) {
    throw HttpError{Reply::json(400, {{"error", why}})};
}

void FakeKaggle::install_controls() {
    server_.control("POST", "/__control/credentials", [this](Call& call) {
        const json body = control_body(call);
        auto string_map = [](const json& j, const char* what) {
            if (!j.is_object())
                bad_control(std::string(what) + " must be an object of strings");
            std::map<std::string, std::string> out;
            for (const auto& [k, v] : j.items()) {
                if (!v.is_string())
                    bad_control(std::string(what) + " must be an object of strings");
                out[k] = v.get<std::string>();
            }
            return out;
        };
        if (body.contains("basic"))
            state_.basic = string_map(body["basic"], "basic");
        if (body.contains("tokens"))
            state_.tokens = string_map(body["tokens"], "tokens");
        return Reply::json(200, {{"ok", true}});
    });

    server_.control("POST", "/__control/quota", [this](Call& call) {
        const json body = control_body(call);
        const std::string user = body.contains("user") ? str_field(body, "user") : "alice";
        if (user.empty())
            bad_control("user must be a user name");
        Quota& q = quota(user, call.now);
        if (body.contains("gpu_used_s")) {
            if (!body["gpu_used_s"].is_number() || body["gpu_used_s"].get<double>() < 0)
                bad_control("gpu_used_s must be a number >= 0");
            q.base_ms = std::llround(body["gpu_used_s"].get<double>() * 1000);
            q.base_at = call.now;
        }
        if (body.contains("gpu_total_s")) {
            if (!body["gpu_total_s"].is_number_integer() || body["gpu_total_s"].get<std::int64_t>() < 0)
                bad_control("gpu_total_s must be an integer >= 0");
            q.gpu_total_s = body["gpu_total_s"].get<std::int64_t>();
        }
        if (body.contains("refresh")) {
            auto t = body["refresh"].is_string() ? parse_rfc3339(body["refresh"].get<std::string>())
                                                 : std::nullopt;
            if (!t || *t <= call.now)
                bad_control("refresh must be an RFC 3339 UTC time after now");
            q.refresh = *t;
        }
        if (body.contains("duration_style")) {
            const json& style = body["duration_style"];
            if (style != "whole" && style != "fraction")
                bad_control("duration_style must be \"whole\" or \"fraction\"");
            q.fraction = style == "fraction";
        }
        return Reply::json(200, quota_json(user, call.now));
    });

    server_.control("POST", "/__control/kernel_timing", [this](Call& call) {
        const json body = control_body(call);
        Timing t = state_.timing;
        for (auto [key, field] : {std::pair{"queued_s", &t.queued_s}, std::pair{"run_s", &t.run_s}})
            if (body.contains(key)) {
                if (!body[key].is_number_integer() || body[key].get<std::int64_t>() < 0)
                    bad_control(std::string(key) + " must be an integer >= 0");
                *field = body[key].get<std::int64_t>();
            }
        if (body.contains("outcome")) {
            if (body["outcome"] != "COMPLETE" && body["outcome"] != "ERROR")
                bad_control("outcome must be \"COMPLETE\" or \"ERROR\"");
            t.fails = body["outcome"] == "ERROR";
        }
        if (body.contains("failure_message")) {
            if (!body["failure_message"].is_string())
                bad_control("failure_message must be a string");
            t.failure = body["failure_message"].get<std::string>();
        }
        state_.timing = t;
        return Reply::json(200, {{"queued_s", t.queued_s}, {"run_s", t.run_s},
                                 {"outcome", t.fails ? "ERROR" : "COMPLETE"},
                                 {"failure_message", t.failure}});
    });

    // The owner deleted the kernel on kaggle.com: status/output answer 404 from now on.
    server_.control("POST", "/__control/delete_kernel", [this](Call& call) {
        const json body = control_body(call);
        const std::string ref = str_field(body, "ref");
        if (ref.empty())
            bad_control("ref must be \"owner/slug\"");
        bool deleted = state_.kernels.erase(ref) > 0;
        return Reply::json(200, {{"ref", ref}, {"deleted", deleted}});
    });

    server_.control("POST", "/__control/status_style", [this](Call& call) {
        const json body = control_body(call);
        const std::string style = str_field(body, "style");
        if (style != "upper" && style != "camel")
            bad_control("style must be \"upper\" or \"camel\"");
        state_.camel_status = style == "camel";
        return Reply::json(200, {{"style", body["style"]}});
    });

    server_.control("POST", "/__control/error_style", [this](Call& call) {
        const json body = control_body(call);
        const std::string style = str_field(body, "style");
        if (style != "nested" && style != "flat")
            bad_control("style must be \"nested\" or \"flat\"");
        state_.flat_errors = style == "flat";
        return Reply::json(200, {{"style", body["style"]}});
    });
}

/// GET /__control/state: settings, users (no secrets), kernels with every version's timeline, and
/// each known user's quota as the API would report it now.
json FakeKaggle::state_json(std::int64_t now) {
    json users = json::array();
    std::set<std::string> names;
    for (const auto& [name, key] : state_.basic)
        names.insert(name);
    for (const auto& [token, name] : state_.tokens)
        names.insert(name);
    for (const auto& [ref, k] : state_.kernels)
        names.insert(k.owner);
    json kernels = json::array();
    for (const auto& [ref, k] : state_.kernels) {
        json versions = json::array();
        for (const Session& s : k.sessions) {
            const char* accel = s.accel == Accel::gpu ? "gpu" : s.accel == Accel::tpu ? "tpu" : "none";
            versions.push_back({{"version", s.version},
                                {"status", status_name(s.status(now))},
                                {"failureMessage", s.failure_message(now)},
                                {"pushed_at", s.pushed_at},
                                {"started_at", s.start()},
                                {"ends_at", s.end()},
                                {"limit_s", s.limit_s},
                                {"accelerator", accel},
                                {"machineShape", s.shape}});
        }
        json m = metadata(k);
        m["versions"] = versions;
        kernels.push_back(m);
    }
    json quotas = json::object();
    for (const std::string& name : names)
        quotas[name] = quota_json(name, now);
    for (const std::string& name : names)
        users.push_back({{"name", name}, {"userId", user_id(name)},
                         {"basic", state_.basic.count(name) > 0}});
    return {{"now", now},
            {"status_style", state_.camel_status ? "camel" : "upper"},
            {"error_style", state_.flat_errors ? "flat" : "nested"},
            {"kernel_timing", {{"queued_s", state_.timing.queued_s},
                               {"run_s", state_.timing.run_s},
                               {"outcome", state_.timing.fails ? "ERROR" : "COMPLETE"},
                               {"failure_message", state_.timing.failure}}},
            {"users", users},
            {"kernels", kernels},
            {"quota", quotas}};
}

} // namespace

/// fake_kaggle [--port N] [--port-file FILE] [--daemon]
int main(int argc, char** argv) {
    const auto opts = gpuctl::fake::parse_args(argc, argv, "fake_kaggle");
    FakeServer server("fake_kaggle");
    FakeKaggle fake(server);
    fake.install();
    return server.run(opts);
}
