// SPDX-License-Identifier: MIT
#include "fake_common.hpp"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string_view>
#include <thread>

namespace gpuctl::fake {

using nlohmann::json;

namespace {

[[noreturn]] void usage_error(const std::string& program, const std::string& msg) {
    std::cerr << program << ": " << msg << "\nusage: " << program
              << " [--port N] [--port-file FILE] [--daemon]\n";
    std::exit(2);
}

std::vector<std::string> split_segments(const std::string& path) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (true) {
        auto slash = path.find('/', start);
        out.push_back(path.substr(start, slash - start));
        if (slash == std::string::npos) break;
        start = slash + 1;
    }
    return out;
}

bool is_digits(std::string_view s) {
    if (s.empty() || s.size() > 18) return false;
    for (char c : s)
        if (c < '0' || c > '9') return false;
    return true;
}

/// Header names httplib adds to Request::headers itself; they never crossed the wire.
bool is_synthetic_header(const std::string& name) {
    return name == "REMOTE_ADDR" || name == "REMOTE_PORT" || name == "LOCAL_ADDR" ||
           name == "LOCAL_PORT";
}

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(a[i])) !=
            std::tolower(static_cast<unsigned char>(b[i])))
            return false;
    return true;
}

/// The raw query string of a request target ("" when none), `api_key` values redacted.
std::string redacted_query(const std::string& target) {
    auto q = target.find('?');
    if (q == std::string::npos) return "";
    std::string raw = target.substr(q + 1);
    std::string out;
    std::size_t start = 0;
    while (start <= raw.size()) {
        auto amp = raw.find('&', start);
        std::string part = raw.substr(start, amp == std::string::npos ? std::string::npos : amp - start);
        if (part.rfind("api_key=", 0) == 0) part = "api_key=[REDACTED]";
        out += part;
        if (amp == std::string::npos) break;
        out += '&';
        start = amp + 1;
    }
    return out;
}

/// Closes the client connection of `req` without an answer: finds the socket whose local and
/// peer ports are the request's (/proc/self/fd) and shuts it down both ways. httplib's later
/// write of the response then fails and it closes the socket; the client sees the connection end
/// before any response byte (libcurl: CURLE_GOT_NOTHING, "Empty reply from server").
bool drop_connection(const httplib::Request& req) {
    DIR* dir = opendir("/proc/self/fd");
    if (!dir) return false;
    bool done = false;
    while (auto* ent = readdir(dir)) {
        if (!is_digits(ent->d_name)) continue;
        int fd = std::atoi(ent->d_name);
        sockaddr_storage peer{}, local{};
        socklen_t plen = sizeof peer, llen = sizeof local;
        if (getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &plen) != 0) continue;
        if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &llen) != 0) continue;
        if (peer.ss_family != AF_INET || local.ss_family != AF_INET) continue;
        auto* p = reinterpret_cast<sockaddr_in*>(&peer);
        auto* l = reinterpret_cast<sockaddr_in*>(&local);
        if (ntohs(p->sin_port) == req.remote_port && ntohs(l->sin_port) == req.local_port) {
            shutdown(fd, SHUT_RDWR);
            done = true;
            break;
        }
    }
    closedir(dir);
    return done;
}

std::string reason_of(int status) {
    switch (status) {
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 410: return "Gone";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "HTTP " + std::to_string(status);
    }
}

Reply control_error(const std::string& msg) { return Reply::json(400, {{"error", msg}}); }

} // namespace

Options parse_args(int argc, char** argv, const std::string& program) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        std::string arg = argv[i];
        std::string value;
        bool has_value = false;
        if (auto eq = arg.find('='); arg.rfind("--", 0) == 0 && eq != std::string::npos) {
            value = arg.substr(eq + 1);
            arg = arg.substr(0, eq);
            has_value = true;
        }
        auto need_value = [&]() -> std::string {
            if (has_value) return value;
            if (i + 1 >= argc) usage_error(program, arg + " needs a value");
            return argv[++i];
        };
        if (arg == "--help" || arg == "-h") {
            std::cout << "usage: " << program << " [--port N] [--port-file FILE] [--daemon]\n"
                      << "Fake provider server on 127.0.0.1 (tests/fakes/README.md).\n";
            std::exit(0);
        } else if (arg == "--port") {
            auto v = need_value();
            if (!is_digits(v) || std::stol(v) > 65535) usage_error(program, "bad --port: " + v);
            o.port = static_cast<int>(std::stol(v));
        } else if (arg == "--port-file") {
            o.port_file = need_value();
        } else if (arg == "--daemon" && !has_value) {
            o.daemon = true;
        } else {
            usage_error(program, "unknown argument: " + std::string(argv[i]));
        }
    }
    return o;
}

json auth_kind_json(AuthKind kind) {
    switch (kind) {
    case AuthKind::bearer: return "bearer";
    case AuthKind::basic: return "basic";
    case AuthKind::query: return "query";
    case AuthKind::none: break;
    }
    return nullptr;
}

Reply Reply::json(int status, const nlohmann::json& j) {
    return Reply{status, "application/json", j.dump(), {}};
}

Reply Reply::text(int status, std::string body) {
    return Reply{status, "text/plain", std::move(body), {}};
}

std::int64_t Call::wild_int(std::size_t i, const Reply& bad) const {
    if (i >= wild.size() || !is_digits(wild[i])) throw HttpError{bad};
    return std::stoll(wild[i]);
}

json Call::json_body(const Reply& bad) const {
    auto j = json::parse(req.body, nullptr, false);
    if (j.is_discarded()) throw HttpError{bad};
    return j;
}

std::optional<std::string> Call::param(const std::string& name) const {
    if (!req.has_param(name)) return std::nullopt;
    return req.get_param_value(name);
}

std::optional<std::string> Call::bearer() const {
    if (!req.has_header("Authorization")) return std::nullopt;
    auto v = req.get_header_value("Authorization");
    if (v.size() < 7 || !iequals(std::string_view(v).substr(0, 7), "Bearer ")) return std::nullopt;
    return v.substr(7);
}

std::optional<std::pair<std::string, std::string>> Call::basic() const {
    if (!req.has_header("Authorization")) return std::nullopt;
    auto v = req.get_header_value("Authorization");
    if (v.size() < 6 || !iequals(std::string_view(v).substr(0, 6), "Basic ")) return std::nullopt;
    auto decoded = base64_decode(v.substr(6));
    if (!decoded) return std::nullopt;
    auto colon = decoded->find(':');
    if (colon == std::string::npos) return std::nullopt;
    return std::make_pair(decoded->substr(0, colon), decoded->substr(colon + 1));
}

std::optional<std::string> base64_decode(const std::string& in) {
    auto val = [](char c) -> int {
        if (c >= 'A' && c <= 'Z') return c - 'A';
        if (c >= 'a' && c <= 'z') return c - 'a' + 26;
        if (c >= '0' && c <= '9') return c - '0' + 52;
        if (c == '+') return 62;
        if (c == '/') return 63;
        return -1;
    };
    std::string s = in;
    while (!s.empty() && s.back() == '=') s.pop_back();
    if (s.size() % 4 == 1) return std::nullopt;
    std::string out;
    unsigned buf = 0;
    int bits = 0;
    for (char c : s) {
        int v = val(c);
        if (v < 0) return std::nullopt;
        buf = (buf << 6) | static_cast<unsigned>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out.push_back(static_cast<char>((buf >> bits) & 0xff));
        }
    }
    return out;
}

std::string base64_encode(const std::string& in) {
    static constexpr char tbl[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    unsigned buf = 0;
    int bits = 0;
    for (unsigned char c : in) {
        buf = (buf << 8) | c;
        bits += 8;
        while (bits >= 6) {
            bits -= 6;
            out.push_back(tbl[(buf >> bits) & 0x3f]);
        }
    }
    if (bits > 0) out.push_back(tbl[(buf << (6 - bits)) & 0x3f]);
    while (out.size() % 4) out.push_back('=');
    return out;
}

bool match_path(const std::string& pattern, const std::string& path,
                std::vector<std::string>* wild) {
    auto ps = split_segments(pattern);
    auto xs = split_segments(path);
    if (ps.size() != xs.size()) return false;
    std::vector<std::string> got;
    for (std::size_t i = 0; i < ps.size(); ++i) {
        if (ps[i] == "*") {
            if (xs[i].empty()) return false;
            got.push_back(xs[i]);
        } else if (ps[i] != xs[i]) {
            return false;
        }
    }
    if (wild) wild->insert(wild->end(), got.begin(), got.end());
    return true;
}

FakeServer::FakeServer(std::string name) : name_(std::move(name)) {
    normalise_ = [](const std::string& p) { return p; };
    default_error_ = [](int status) {
        return Reply::json(status, {{"error", "http_" + std::to_string(status)},
                                    {"msg", reason_of(status)}});
    };
    auto handler = [this](const httplib::Request& req, httplib::Response& res) {
        dispatch(req, res);
    };
    // Any target, also absolute-form ("POST http://host/path HTTP/1.1", a client behind an HTTP
    // proxy): the fake's path normaliser reduces it to the path.
    const char* any = R"(.*)";
    server_.Get(any, handler);
    server_.Post(any, handler);
    server_.Put(any, handler);
    server_.Delete(any, handler);
    server_.Patch(any, handler);
    server_.Options(any, handler);
    install_common_controls();
}

void FakeServer::route(const std::string& method, const std::string& pattern, Handler handler) {
    routes_.push_back({method, pattern, std::move(handler)});
}

void FakeServer::control(const std::string& method, const std::string& pattern, Handler handler) {
    controls_.push_back({method, pattern, std::move(handler)});
}

void FakeServer::on_reset(std::function<void()> hook) { reset_hook_ = std::move(hook); }

void FakeServer::on_state(std::function<json(std::int64_t)> hook) { state_hook_ = std::move(hook); }

void FakeServer::set_path_normaliser(std::function<std::string(const std::string&)> fn) {
    normalise_ = std::move(fn);
}

void FakeServer::set_default_error(std::function<Reply(int)> fn) { default_error_ = std::move(fn); }

void FakeServer::add_secret_header(const std::string& name) { secret_headers_.push_back(name); }

void FakeServer::send(httplib::Response& res, const Reply& reply) {
    res.status = reply.status;
    for (const auto& [k, v] : reply.headers) res.set_header(k, v);
    res.set_content(reply.body, reply.content_type);
}

void FakeServer::dispatch(const httplib::Request& req, httplib::Response& res) {
    if (req.path.rfind("/__control/", 0) == 0)
        serve_control(req, res);
    else
        serve_provider(req, res);
}

Reply FakeServer::run_route(Call& call, const std::vector<Route>& routes, bool& matched) {
    matched = false;
    bool other_method = false;
    for (const auto& r : routes) {
        std::vector<std::string> wild;
        if (!match_path(r.pattern, call.path, &wild)) continue;
        if (r.method != call.req.method) {
            other_method = true;
            continue;
        }
        matched = true;
        call.wild = std::move(wild);
        try {
            return r.handler(call);
        } catch (const HttpError& e) {
            return e.reply;
        } catch (const json::exception& e) {
            return Reply::json(400, {{"error", "invalid_request"},
                                     {"msg", std::string("fake: bad JSON value: ") + e.what()}});
        } catch (const std::exception& e) {
            return Reply::json(500, {{"error", "fake_error"},
                                     {"msg", std::string("fake: handler failed: ") + e.what()}});
        }
    }
    return default_error_(other_method ? 405 : 404);
}

void FakeServer::serve_control(const httplib::Request& req, httplib::Response& res) {
    std::lock_guard lock(mutex_);
    Call call{req, req.path, {}, now_};
    bool matched = false;
    Reply reply = run_route(call, controls_, matched);
    if (!matched && reply.status == 404)
        reply = Reply::json(404, {{"error", "no such control call: " + req.method + " " + req.path}});
    send(res, reply);
}

std::optional<FakeServer::Fault> FakeServer::take_fault(const std::string& method,
                                                         const std::string& path) {
    for (auto it = faults_.begin(); it != faults_.end(); ++it) {
        if (it->method != method || !match_path(it->pattern, path)) continue;
        if (it->skip > 0) {
            --it->skip;
            return std::nullopt;
        }
        Fault f = *it;
        if (it->count > 0 && --it->count == 0) faults_.erase(it);
        return f;
    }
    return std::nullopt;
}

json FakeServer::log_entry(const httplib::Request& req, const Call& call) const {
    json headers = json::object();
    for (const auto& [name, value] : req.headers) {
        if (is_synthetic_header(name)) continue;
        std::string v = value;
        if (iequals(name, "Authorization")) {
            if (v.size() >= 7 && iequals(std::string_view(v).substr(0, 7), "Bearer "))
                v = "Bearer [REDACTED]";
            else if (v.size() >= 6 && iequals(std::string_view(v).substr(0, 6), "Basic "))
                v = "Basic [REDACTED]";
            else
                v = "[REDACTED]";
        } else {
            for (const auto& s : secret_headers_)
                if (iequals(name, s)) v = "[REDACTED]";
        }
        if (headers.contains(name))
            headers[name] = headers[name].get<std::string>() + ", " + v;
        else
            headers[name] = v;
    }
    json params = json::object();
    for (const auto& [k, v] : req.params)
        if (!params.contains(k)) params[k] = (k == "api_key") ? "[REDACTED]" : v;
    return {{"seq", seq_},
            {"method", req.method},
            {"path", req.path},
            {"query", redacted_query(req.target)},
            {"params", params},
            {"headers", headers},
            {"auth", auth_kind_json(call.auth)},
            {"auth_ok", call.auth_ok},
            {"body", req.body}};
}

void FakeServer::serve_provider(const httplib::Request& req, httplib::Response& res) {
    std::unique_lock lock(mutex_);
    Call call{req, normalise_(req.path), {}, now_};
    auto fault = take_fault(req.method, call.path);
    if (fault && fault->mode == "delay") {
        lock.unlock();
        std::this_thread::sleep_for(std::chrono::milliseconds(fault->delay_ms));
        lock.lock();
        call.now = now_;
    }
    Reply reply;
    bool drop = false;
    if (fault && fault->mode == "status") {
        reply = default_error_(fault->status);
        if (fault->body) reply.body = *fault->body;
        if (fault->content_type) reply.content_type = *fault->content_type;
        if (fault->retry_after) reply.headers.emplace_back("Retry-After", *fault->retry_after);
    } else if (fault && fault->mode == "reset") {
        drop = true;
    } else {
        bool matched = false;
        reply = run_route(call, routes_, matched);
        if (fault && fault->mode == "after") {
            drop = true;
        } else if (fault && fault->mode == "truncate") {
            reply.status = 200;
            reply.body = reply.body.substr(0, reply.body.size() / 2);
        } else if (fault && fault->mode == "malformed") {
            reply.status = 200;
            reply.body = "<html>oops</html>";
            reply.content_type = fault->content_type.value_or("application/json");
        }
    }
    ++seq_;
    json entry = log_entry(req, call);
    entry["status"] = (fault && fault->mode == "reset") ? json(nullptr) : json(reply.status);
    entry["response_body"] = (fault && fault->mode == "reset") ? json(nullptr) : json(reply.body);
    entry["response_content_type"] =
        (fault && fault->mode == "reset") ? json(nullptr) : json(reply.content_type);
    entry["fault"] = fault ? json(fault->mode) : json(nullptr);
    log_.push_back(std::move(entry));
    if (drop && drop_connection(req)) return;
    if (drop) reply = Reply::json(500, {{"error", "fake: could not find the connection to drop"}});
    send(res, reply);
}

void FakeServer::install_common_controls() {
    control("POST", "/__control/reset", [this](Call&) {
        now_ = kClockStart;
        log_ = json::array();
        seq_ = 0;
        faults_.clear();
        if (reset_hook_) reset_hook_();
        return Reply::json(200, {{"ok", true}, {"now", now_}});
    });
    auto clock = [this](Call& call) {
        if (call.req.method == "POST") {
            auto body = call.json_body(control_error("body is not JSON"));
            if (body.contains("now") && body["now"].is_number_integer())
                now_ = body["now"].get<std::int64_t>();
            else if (body.contains("advance") && body["advance"].is_number())
                now_ += static_cast<std::int64_t>(body["advance"].get<double>());
            else
                return control_error("expected {\"now\": EPOCH} or {\"advance\": SECONDS}");
        }
        return Reply::json(200, {{"now", now_}});
    };
    control("POST", "/__control/clock", clock);
    control("GET", "/__control/clock", clock);
    control("POST", "/__control/fault", [this](Call& call) {
        auto b = call.json_body(control_error("body is not JSON"));
        if (!b.is_object() || !b.contains("route") || !b["route"].is_string())
            return control_error("fault needs \"route\": \"METHOD PATH\"");
        std::string route = b["route"];
        auto sp = route.find(' ');
        if (sp == std::string::npos) return control_error("route must be \"METHOD PATH\"");
        Fault f;
        f.method = route.substr(0, sp);
        f.pattern = normalise_(route.substr(sp + 1));
        f.count = b.value("count", 1);
        f.skip = b.value("skip", 0);
        if (f.skip < 0) return control_error("skip must be >= 0");
        f.mode = b.value("mode", std::string("status"));
        if (f.mode != "status" && f.mode != "delay" && f.mode != "reset" && f.mode != "truncate" &&
            f.mode != "malformed" && f.mode != "after")
            return control_error("unknown fault mode: " + f.mode);
        if (f.count == 0 || f.count < -1) return control_error("count must be >= 1 or -1");
        f.status = b.value("status", 500);
        f.delay_ms = b.value("delay_ms", 0);
        if (b.contains("retry_after")) {
            const auto& ra = b["retry_after"];
            f.retry_after = ra.is_string() ? ra.get<std::string>() : ra.dump();
        }
        if (b.contains("body") && b["body"].is_string()) f.body = b["body"].get<std::string>();
        if (b.contains("content_type")) f.content_type = b["content_type"].get<std::string>();
        faults_.push_back(f);
        return Reply::json(200, {{"ok", true}, {"queued", faults_.size()}});
    });
    control("GET", "/__control/log", [this](Call&) { return Reply::json(200, log_); });
    control("DELETE", "/__control/log", [this](Call&) {
        log_ = json::array();
        return Reply::json(200, {{"ok", true}});
    });
    control("GET", "/__control/state", [this](Call&) {
        return Reply::json(200, state_hook_ ? state_hook_(now_) : json::object());
    });
    control("POST", "/__control/shutdown", [this](Call&) {
        std::thread([this] {
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
            server_.stop();
        }).detach();
        return Reply::json(200, {{"ok", true}});
    });
}

int FakeServer::run(const Options& opts) {
    // Signals: block them here so every server thread inherits the mask; one thread waits for them.
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
    signal(SIGPIPE, SIG_IGN);

    // Answers go out at once (no Nagle delay on kept-alive connections) and a client may keep
    // one connection for a whole paginated listing, as it would with the real APIs.
    server_.set_tcp_nodelay(true);
    server_.set_keep_alive_max_count(100000);
    int port = opts.port;
    if (port == 0) {
        port = server_.bind_to_any_port("127.0.0.1");
        if (port <= 0) {
            std::cerr << name_ << ": cannot bind 127.0.0.1\n";
            return 1;
        }
    } else if (!server_.bind_to_port("127.0.0.1", port)) {
        std::cerr << name_ << ": cannot bind 127.0.0.1:" << port << "\n";
        return 1;
    }
    if (opts.daemon) {
        pid_t pid = fork();
        if (pid < 0) {
            std::perror("fork");
            return 1;
        }
        if (pid == 0) {
            setsid();
            int null = open("/dev/null", O_RDWR);
            if (null >= 0) {
                dup2(null, 0), dup2(null, 1), dup2(null, 2);
                if (null > 2) close(null);
            }
        }
        if (pid > 0) {
            // Parent: announce the port and leave; the child serves.
            if (!opts.port_file.empty()) std::ofstream(opts.port_file) << port << "\n";
            std::cout << "listening 127.0.0.1:" << port << std::endl;
            return 0;
        }
    } else {
        if (!opts.port_file.empty()) std::ofstream(opts.port_file) << port << "\n";
        std::cout << "listening 127.0.0.1:" << port << std::endl;
    }
    std::thread([this, sigs] {
        int sig = 0;
        sigwait(&sigs, &sig);
        server_.stop();
    }).detach();
    server_.listen_after_bind();
    return 0;
}

} // namespace gpuctl::fake
