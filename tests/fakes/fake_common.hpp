// SPDX-License-Identifier: MIT
#pragma once
// Shared server code of the fake providers (tests/fakes/README.md): command line, loopback
// binding, the `listening` line, signals, the fixed fake clock, the control API (/__control/reset,
// clock, fault, log, state, shutdown), the request log with redaction, fault injection, and route
// dispatch with `*` path segments. A fake (fake_vast.cpp, fake_kaggle.cpp) creates one FakeServer,
// registers its provider routes, control routes and hooks, then calls run().
//
// Concurrency: every handler (provider or control) runs under one server-wide mutex, one call at a
// time, so a fake's state needs no locking of its own. Only the `delay` fault sleeps outside it.

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace gpuctl::fake {

/// The fake clock's start: 2026-11-30T08:00:00Z (epoch seconds), the CLI tests' GPUCTL_NOW.
inline constexpr std::int64_t kClockStart = 1796025600;

/// Parsed command line shared by both fakes.
struct Options {
    int port = 0;            ///< --port N; 0 = let the kernel pick a free port
    std::string port_file;   ///< --port-file FILE; PORT is written there once listening ("" = none)
    bool daemon = false;     ///< --daemon: fork after binding; the parent exits 0 once the port is
                             ///< known (for CTest fixtures); the child serves with stdio on /dev/null
};

/// Parses `--port N`, `--port-file FILE`, `--daemon` (also `--opt=value`) and `--help`.
/// Prints usage and exits 0 on --help; prints a message to stderr and exits 2 on bad usage.
Options parse_args(int argc, char** argv, const std::string& program);

/// How a request's credentials were presented (README "Request log": the `auth` field).
enum class AuthKind { none, bearer, basic, query };

/// Log spelling of an AuthKind: "bearer" | "basic" | "query", or null for none.
nlohmann::json auth_kind_json(AuthKind kind);

/// A provider's (or a control call's) answer.
struct Reply {
    int status = 200;
    std::string content_type = "application/json"; ///< sent exactly as given (no charset added)
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers; ///< extra headers (e.g. Retry-After)

    /// A JSON answer with Content-Type exactly `application/json`; body = j.dump().
    static Reply json(int status, const nlohmann::json& j);
    /// A plain-text answer with Content-Type exactly `text/plain`.
    static Reply text(int status, std::string body);
};

/// Thrown by handlers (and helpers below) to answer at once with `reply`.
struct HttpError {
    Reply reply;
};

/// One request as a handler sees it.
struct Call {
    const httplib::Request& req;    ///< the raw request (req.path as received, req.params decoded)
    std::string path;               ///< the path after the fake's normaliser (used for matching)
    std::vector<std::string> wild;  ///< the segments matched by the pattern's `*`, in order
    std::int64_t now;               ///< fake time, epoch seconds
    AuthKind auth = AuthKind::none; ///< set by the handler via set_auth(); logged as `auth`
    bool auth_ok = false;           ///< set by the handler via set_auth(); logged as `auth_ok`

    /// Declares how the handler classified this request's credentials (shown in the log).
    void set_auth(AuthKind kind, bool ok) { auth = kind, auth_ok = ok; }
    /// The `i`-th `*` segment as an integer; throws HttpError(`bad`) when it is not a plain
    /// decimal number.
    std::int64_t wild_int(std::size_t i, const Reply& bad) const;
    /// The body parsed as JSON; throws HttpError(`bad`) when it is not valid JSON.
    nlohmann::json json_body(const Reply& bad) const;
    /// The first value of query parameter `name` (decoded, `+` as space), or nullopt.
    std::optional<std::string> param(const std::string& name) const;
    /// The token of an `Authorization: Bearer TOKEN` header, or nullopt.
    std::optional<std::string> bearer() const;
    /// The (user, password) of an `Authorization: Basic B64` header, or nullopt when absent or
    /// not decodable.
    std::optional<std::pair<std::string, std::string>> basic() const;
};

/// A route or control handler: returns the answer or throws HttpError. Any other exception is
/// answered too: a nlohmann::json error (a body field of the wrong type) as 400
/// `{"error": "invalid_request", "msg"}`, another std::exception as 500 `{"error": "fake_error"}`.
using Handler = std::function<Reply(Call&)>;

/// Decodes standard base64 (padding optional); nullopt on invalid input.
std::optional<std::string> base64_decode(const std::string& in);
/// Encodes standard base64 with padding.
std::string base64_encode(const std::string& in);

/// True when `path` matches `pattern` segment by segment, where a pattern segment `*` matches any
/// one non-empty segment; the matched segments are appended to `wild` when it is not null.
bool match_path(const std::string& pattern, const std::string& path,
                std::vector<std::string>* wild = nullptr);

/// The HTTP server of one fake. Not copyable; create one in main().
class FakeServer {
public:
    /// `name` is used in messages ("fake_vast").
    explicit FakeServer(std::string name);
    FakeServer(const FakeServer&) = delete;
    FakeServer& operator=(const FakeServer&) = delete;

    /// Registers a provider route: `method` ("GET", "PUT", ...) and a path pattern with `*`
    /// segments, matched against the normalised path. Routes are tried in registration order;
    /// requests are logged and subject to faults. An unmatched request gets
    /// default_error(404) (or 405 when the path matches a route of another method).
    void route(const std::string& method, const std::string& pattern, Handler handler);

    /// Registers a fake-specific control route under `/__control/` (e.g. "POST",
    /// "/__control/offers" or "/__control/instance/*"); never logged, never faulted.
    void control(const std::string& method, const std::string& pattern, Handler handler);

    /// Called (under the lock) by POST /__control/reset after the common state (clock, log,
    /// faults) is reset: the fake restores its initial state.
    void on_reset(std::function<void()> hook);

    /// Produces the JSON of GET /__control/state (under the lock). Default: `{}`.
    void on_state(std::function<nlohmann::json(std::int64_t now)> hook);

    /// Maps a request path before matching routes and faults (e.g. Kaggle "/api/v1/x" -> "/v1/x").
    /// Also applied to fault routes. Default: identity. The log keeps the path as received.
    void set_path_normaliser(std::function<std::string(const std::string&)> fn);

    /// The provider's usual error answer for `status`, used by `status` faults without a body and
    /// for unknown routes. Default: JSON `{"error": "...", "msg": "..."}`.
    void set_default_error(std::function<Reply(int status)> fn);

    /// Extra names of request headers whose values are secret and logged as `[REDACTED]`
    /// (Authorization is always redacted as `Bearer [REDACTED]` / `Basic [REDACTED]`).
    void add_secret_header(const std::string& name);

    /// Fake time now, epoch seconds (call only from a handler or hook, i.e. under the lock).
    std::int64_t now() const { return now_; }

    /// Binds 127.0.0.1:opts.port, prints `listening 127.0.0.1:PORT` (flushed), writes the port
    /// file, and serves until SIGTERM/SIGINT or POST /__control/shutdown. Returns the process exit
    /// status (0 on a clean stop, 1 when the port cannot be bound).
    int run(const Options& opts);

private:
    struct Route {
        std::string method;
        std::string pattern;
        Handler handler;
    };
    struct Fault {
        std::string method;
        std::string pattern;
        int count = 1; // -1: unlimited
        int skip = 0;  // matching calls to let through first
        std::string mode;
        int status = 0;
        std::optional<std::string> retry_after;
        std::optional<std::string> body;
        std::optional<std::string> content_type;
        int delay_ms = 0;
    };

    void dispatch(const httplib::Request& req, httplib::Response& res);
    void serve_control(const httplib::Request& req, httplib::Response& res);
    void serve_provider(const httplib::Request& req, httplib::Response& res);
    Reply run_route(Call& call, const std::vector<Route>& routes, bool& matched);
    std::optional<Fault> take_fault(const std::string& method, const std::string& path);
    nlohmann::json log_entry(const httplib::Request& req, const Call& call) const;
    void install_common_controls();
    static void send(httplib::Response& res, const Reply& reply);

    std::string name_;
    httplib::Server server_;
    std::mutex mutex_;
    std::int64_t now_ = kClockStart;
    std::vector<Route> routes_;
    std::vector<Route> controls_;
    std::vector<Fault> faults_;
    nlohmann::json log_ = nlohmann::json::array();
    std::int64_t seq_ = 0;
    std::vector<std::string> secret_headers_;
    std::function<void()> reset_hook_;
    std::function<nlohmann::json(std::int64_t)> state_hook_;
    std::function<std::string(const std::string&)> normalise_;
    std::function<Reply(int)> default_error_;
};

} // namespace gpuctl::fake
