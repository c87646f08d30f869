// SPDX-License-Identifier: MIT
// fake_vast: a stateful fake of the vast.ai REST API (../shared/specs/vast-api.md), deterministic
// over a fixed fake clock. Contract of the command line and control API: README.md here.

#include "fake_common.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

extern char** environ;

namespace {

/// A free TCP port on 127.0.0.1 (bound and released: good enough for tests).
int free_port() {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    int port = 0;
    if (fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0)
        port = ntohs(a.sin_port);
    if (fd >= 0) ::close(fd);
    return port;
}

using gpuctl::fake::AuthKind;
using gpuctl::fake::Call;
using gpuctl::fake::FakeServer;
using gpuctl::fake::HttpError;
using gpuctl::fake::Reply;
using nlohmann::json;

// ---------------------------------------------------------------------------------------------
// Error bodies (spec §9.1, recorded/vast/errors.json)

Reply vast_error(int status, const std::string& error, const std::string& msg) {
    return Reply::json(status, {{"success", false}, {"error", error}, {"msg", msg}});
}

Reply auth_error() { return vast_error(401, "auth_error", "Invalid user key"); }

/// Plain-text 429 of spec §9.4; `threshold` seconds printed like Python's float repr ("1.0").
Reply too_frequent(double threshold) {
    return Reply::text(429, "API requests too frequent endpoint threshold=" + json(threshold).dump());
}

/// The usual vast.ai answer for a status (used by `status` faults and unknown routes).
Reply default_error(int status) {
    switch (status) {
    case 400: return vast_error(400, "invalid_args", "error 400/1782: Invalid args");
    case 401: return auth_error();
    case 403: return vast_error(403, "forbidden", "error 403: Forbidden");
    case 404: return vast_error(404, "not_found", "Not found");
    case 405: return vast_error(405, "method_not_allowed", "Method not allowed");
    case 429: return too_frequent(1.0);
    }
    if (status >= 500)
        return Reply{status, "text/html",
                     "<html><body>" + std::to_string(status) + " Service Unavailable</body></html>",
                     {}};
    return vast_error(status, "http_" + std::to_string(status), "error " + std::to_string(status));
}

// ---------------------------------------------------------------------------------------------
// Value coercion and filters (spec §2.1, §2.2, §4.2)

/// A JSON value as a number: numbers, numeric strings ("0.98"), and dotted version strings
/// ("535.86.05" -> 535086005, the CLI's driver_version form). Nullopt otherwise.
std::optional<double> as_number(const json& v) {
    if (v.is_number()) return v.get<double>();
    if (!v.is_string()) return std::nullopt;
    const std::string& s = v.get_ref<const std::string&>();
    if (s.empty()) return std::nullopt;
    char* end = nullptr;
    double d = std::strtod(s.c_str(), &end);
    if (end == s.c_str() + s.size() && std::isfinite(d)) return d;
    // dotted version with three or more parts
    double acc = 0;
    int parts = 0;
    std::size_t i = 0;
    while (i <= s.size()) {
        auto dot = s.find('.', i);
        std::string part = s.substr(i, dot == std::string::npos ? std::string::npos : dot - i);
        if (part.empty() || part.size() > 3 ||
            !std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; }))
            return std::nullopt;
        acc = acc * 1000 + std::stoi(part);
        ++parts;
        if (dot == std::string::npos) break;
        i = dot + 1;
    }
    if (parts < 3) return std::nullopt;
    return acc;
}

/// Three-way comparison of two non-null values after coercion; nullopt when not comparable.
std::optional<int> compare_values(const json& a, const json& b) {
    if (a.is_boolean() || b.is_boolean()) {
        if (a.is_boolean() && b.is_boolean()) return int(a.get<bool>()) - int(b.get<bool>());
        return std::nullopt;
    }
    auto na = as_number(a), nb = as_number(b);
    if (na && nb) return *na < *nb ? -1 : (*na > *nb ? 1 : 0);
    if (a.is_string() && b.is_string()) {
        int c = a.get_ref<const std::string&>().compare(b.get_ref<const std::string&>());
        return c < 0 ? -1 : (c > 0 ? 1 : 0);
    }
    return std::nullopt;
}

/// The trailing two-letter country code of a geolocation ("Oregon, US" -> "US").
std::string country_code(const std::string& geo) {
    std::string s = geo;
    while (!s.empty() && s.back() == ' ') s.pop_back();
    if (s.size() < 2) return s;
    std::string cc = s.substr(s.size() - 2);
    for (auto& c : cc) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return cc;
}

bool values_equal(const json& field, const json& value, bool geo) {
    if (field.is_null() || value.is_null()) return field.is_null() && value.is_null();
    if (geo && field.is_string() && value.is_string()) {
        std::string v = value.get<std::string>();
        for (auto& c : v) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        return country_code(field.get<std::string>()) == v;
    }
    auto c = compare_values(field, value);
    return c && *c == 0;
}

/// True when `field` satisfies `op value`; throws HttpError(400) on an unknown operator.
bool match_op(const json& field, const std::string& op, const json& value, bool geo) {
    if (op == "eq") return values_equal(field, value, geo);
    if (op == "neq") return !values_equal(field, value, geo);
    if (op == "in" || op == "notin") {
        bool any = false;
        if (value.is_array()) {
            for (const auto& v : value) any = any || values_equal(field, v, geo);
        } else {
            any = values_equal(field, value, geo);
        }
        return op == "in" ? any : !any;
    }
    if (op == "gt" || op == "gte" || op == "lt" || op == "lte") {
        if (field.is_null() || value.is_null()) return false;
        auto c = compare_values(field, value);
        if (!c) return false;
        if (op == "gt") return *c > 0;
        if (op == "gte") return *c >= 0;
        if (op == "lt") return *c < 0;
        return *c <= 0;
    }
    throw HttpError{Reply::json(400, {{"error", "invalid_request"},
                                      {"msg", "Invalid filter operator: " + op}})};
}

/// True when `row[column]` satisfies every operator of `ops` ({op: value} or a bare value = eq).
bool match_column(const json& row, const std::string& column, const json& ops) {
    const json field = row.contains(column) ? row[column] : json(nullptr);
    bool geo = column == "geolocation";
    if (!ops.is_object()) return match_op(field, "eq", ops, geo);
    for (const auto& [op, value] : ops.items())
        if (!match_op(field, op, value, geo)) return false;
    return true;
}

/// Sort order of two values: numbers/strings/bools by compare_values, nulls last.
int order_values(const json& a, const json& b) {
    if (a.is_null() || b.is_null()) return a.is_null() == b.is_null() ? 0 : (a.is_null() ? 1 : -1);
    auto c = compare_values(a, b);
    if (c) return *c;
    return a.dump().compare(b.dump()) < 0 ? -1 : 1;
}

struct SortKey {
    std::string col;
    bool desc = false;
};

/// Three-way comparison of two rows by `keys` (nulls last in both directions).
int compare_rows(const json& a, const json& b, const std::vector<SortKey>& keys) {
    static const json null_value;
    auto field = [](const json& row, const std::string& col) -> const json& {
        auto it = row.find(col);
        return it == row.end() ? null_value : *it;
    };
    for (const auto& k : keys) {
        const json& va = field(a, k.col);
        const json& vb = field(b, k.col);
        int c = order_values(va, vb);
        if (c != 0 && !va.is_null() && !vb.is_null() && k.desc) c = -c;
        if (c != 0) return c;
    }
    return 0;
}

// ---------------------------------------------------------------------------------------------
// The default catalogue (spec §2.3 fields)

json make_offer(std::int64_t id, std::int64_t machine, const std::string& gpu, int num_gpus,
                int gpu_ram, double dph_base, const std::string& geo, double reliability,
                const std::string& verification, double cuda, const std::string& driver,
                double inet_down, int compute_cap) {
    const double dlperf = (gpu == "H100 SXM" ? 180.0 : gpu == "A100 SXM4" ? 120.0
                           : gpu == "RTX 4090" ? 80.0 : 45.0) * num_gpus;
    const double flops = (gpu == "H100 SXM" ? 267.6 : gpu == "A100 SXM4" ? 78.0
                          : gpu == "RTX 4090" ? 82.6 : 35.6) * num_gpus;
    return {
        {"id", id}, {"ask_contract_id", id}, {"bundle_id", id + 900000000}, {"bundled_results", 1},
        {"machine_id", machine}, {"host_id", 50000 + machine % 1000}, {"num_gpus", num_gpus},
        {"gpu_name", gpu}, {"gpu_ram", gpu_ram}, {"gpu_total_ram", gpu_ram * num_gpus},
        {"gpu_frac", 1.0}, {"gpu_arch", "nvidia"}, {"gpu_mem_bw", gpu == "H100 SXM" ? 3350.0 : 1000.0},
        {"gpu_max_power", 450.0}, {"gpu_max_temp", 83.0}, {"gpu_lanes", 16}, {"bw_nvlink", 0.0},
        {"compute_cap", compute_cap}, {"cuda_max_good", cuda}, {"driver_version", driver},
        {"cpu_name", "AMD EPYC 7543 32-Core Processor"}, {"cpu_arch", "amd64"},
        {"cpu_cores", 64}, {"cpu_cores_effective", 8.0 * num_gpus}, {"cpu_ghz", 3.7},
        {"cpu_ram", 64000 * num_gpus}, {"disk_space", 250.0 * num_gpus}, {"disk_bw", 3000.0},
        {"disk_name", "Samsung SSD 980 PRO"}, {"inet_up", inet_down * 0.8},
        {"inet_down", inet_down}, {"inet_up_cost", 0.005}, {"inet_down_cost", 0.005},
        {"direct_port_count", 99}, {"pci_gen", 4.0}, {"pcie_bw", 25.1}, {"dph_base", dph_base},
        {"min_bid", std::round(dph_base * 600.0) / 1000.0}, {"storage_cost", 0.15},
        {"dlperf", dlperf}, {"total_flops", flops}, {"score", dlperf / dph_base},
        {"reliability", reliability}, {"reliability2", reliability},
        {"verification", verification}, {"verified", verification == "verified"},
        {"vericode", verification == "verified" ? 1 : 0},
        {"rentable", true}, {"rented", false}, {"is_bid", false}, {"external", false},
        {"static_ip", true}, {"vms_enabled", false}, {"gpu_display_active", false},
        {"hosting_type", geo.find("Frankfurt") != std::string::npos ? 1 : 0}, {"has_avx", 1},
        {"geolocation", geo}, {"geolocode", 1000 + machine % 100},
        {"public_ipaddr", "203.0.113." + std::to_string(machine % 250 + 1)},
        {"mobo_name", "ROMED8-2T"}, {"os_version", "22.04"}, {"resource_type", "gpu"},
        {"start_date", static_cast<double>(gpuctl::fake::kClockStart - 86400 * 30)},
        {"end_date", static_cast<double>(gpuctl::fake::kClockStart + 86400 * 60)},
        {"duration", 86400.0 * 60}, {"time_remaining", ""}, {"time_remaining_isbid", ""},
        {"cluster_id", nullptr}};
}

json default_offers() {
    json a = json::array();
    a.push_back(make_offer(12345678, 88888, "RTX 4090", 1, 24564, 0.35, "Oregon, US", 0.9981, "verified", 12.4, "550.54.14", 900.2, 890));
    a.push_back(make_offer(12345679, 88889, "RTX 4090", 1, 24564, 0.29, "Quebec, CA", 0.9912, "verified", 12.2, "535.86.05", 500.0, 890));
    a.push_back(make_offer(12345680, 88890, "RTX 4090", 2, 24564, 0.74, "Texas, US", 0.9954, "verified", 12.4, "550.54.14", 1200.0, 890));
    a.push_back(make_offer(12345681, 88891, "RTX 4090", 1, 24564, 0.31, "Bavaria, DE", 0.9730, "unverified", 12.4, "550.54.14", 300.0, 890));
    a.push_back(make_offer(22345678, 77770, "RTX 3090", 1, 24576, 0.16, "Ohio, US", 0.9890, "verified", 12.2, "535.86.05", 400.0, 860));
    a.push_back(make_offer(22345679, 77771, "RTX 3090", 4, 24576, 0.62, "Ontario, CA", 0.9935, "verified", 12.2, "535.104.05", 800.0, 860));
    a.push_back(make_offer(22345680, 77772, "RTX 3090", 1, 24576, 0.12, "Sao Paulo, BR", 0.9420, "unverified", 11.8, "520.61.05", 150.0, 860));
    a.push_back(make_offer(32345678, 66660, "A100 SXM4", 1, 81920, 0.95, "California, US", 0.9990, "verified", 12.4, "550.54.14", 2000.0, 800));
    a.push_back(make_offer(32345679, 66661, "A100 SXM4", 8, 81920, 7.20, "Frankfurt, DE", 0.9995, "verified", 12.4, "550.54.14", 5000.0, 800));
    a.push_back(make_offer(42345678, 55550, "H100 SXM", 1, 81559, 2.10, "Virginia, US", 0.9993, "verified", 12.6, "560.35.03", 4000.0, 900));
    a.push_back(make_offer(42345679, 55551, "H100 SXM", 8, 81559, 16.40, "Helsinki, FI", 0.9997, "verified", 12.6, "560.35.03", 10000.0, 900));
    a.push_back(make_offer(42345680, 55552, "H100 SXM", 2, 81559, 4.30, "Tokyo, JP", 0.9860, "verified", 12.4, "550.54.14", 3000.0, 900));
    return a;
}

// ---------------------------------------------------------------------------------------------
// State

/// Deterministic 64-hex-digit string derived from `seed` (FNV-1a over seed and a counter).
std::string hex_key(const std::string& seed) {
    std::string out;
    for (int part = 0; part < 4; ++part) {
        std::uint64_t h = 1469598103934665603ULL;
        for (char c : seed + ":" + std::to_string(part)) {
            h ^= static_cast<unsigned char>(c);
            h *= 1099511628211ULL;
        }
        char buf[17];
        std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
        out += buf;
    }
    return out;
}

struct Instance {
    std::int64_t id = 0;
    std::int64_t machine_id = 0;
    json row;                      // static fields (from offer + create body + patches)
    std::string intended = "running";
    bool holding = false;          // has its machine's GPUs
    bool scheduling = false;       // start requested, GPUs rented by someone else
    std::int64_t boot_at = 0;      // when the GPUs were obtained (create or start)
    std::int64_t null_s = 10;      // seconds with actual_status null after boot_at
    std::int64_t loading_s = 50;   // then seconds of "loading"
    json manual = json::object();  // patched status fields, until the next start/stop
    json gpu_util = 0.0;           // reported while running (percent)
    std::string api_key;
};

struct VastState {
    json offers = default_offers();
    std::map<std::int64_t, Instance> instances;
    std::set<std::int64_t> destroyed;
    std::map<std::int64_t, std::int64_t> held;   // machine_id -> instance id holding its GPUs
    std::set<std::int64_t> stolen;               // machine_ids rented by someone else
    std::vector<std::string> keys{"TESTKEY"};
    std::int64_t next_id = 4240;
    bool pace = false;
    std::map<std::string, double> thresholds{
        {"POST /api/v0/bundles/", 6.0},          {"PUT /api/v0/search/asks/", 6.0},
        {"PUT /api/v0/asks/*/", 4.5},            {"GET /api/v1/instances/", 1.0},
        {"GET /api/v0/instances/*/", 2.0},       {"PUT /api/v0/instances/*/", 1.0},
        {"DELETE /api/v0/instances/*/", 3.0}};
    std::map<std::string, std::chrono::steady_clock::time_point> last_call; // route|caller
};

/// The fake vast.ai server: state plus the route handlers (one section per route group).
class FakeVast {
public:
    explicit FakeVast(FakeServer& srv) : srv_(srv) {
        srv_.set_default_error(default_error);
        srv_.on_reset([this] {
            kill_all();
            exec_ = ExecMode{};
            st_ = VastState{};
            label_counts_.reset();
        });
        srv_.on_state([this](std::int64_t now) { return dump(now); });
        add_public_routes();
        add_offer_routes();
        add_instance_routes();
        add_controls();
    }

    ~FakeVast() { kill_all(); }

private:
    /// `/__control/exec`: instances run their onstart script on this machine (README).
    struct ExecMode {
        bool enabled = false;
        std::string dir = "/tmp";
        std::string public_ip = "127.0.0.1";
    };
    ExecMode exec_;
    std::map<std::int64_t, pid_t> procs_; ///< instance id -> process group of its onstart

    /// Exec mode: runs `inst`'s onstart with `sh -c` in its own session, with the variables an
    /// instance gets (vast-api.md §10): CONTAINER_ID, PUBLIC_IPADDR, VAST_TCP_PORT_<n> for each
    /// `-p` of its env (a free loopback port; identity ports ≥ 70000 too). Output goes to
    /// DIR/instance-<id>.log.
    void spawn(const Instance& inst) {
        if (procs_.contains(inst.id)) return;
        std::string onstart = inst.row.value("onstart", json(nullptr)).is_string()
                                  ? inst.row["onstart"].get<std::string>()
                                  : std::string();
        if (onstart.empty()) return;
        std::vector<std::string> env;
        for (char** e = environ; *e; ++e) env.emplace_back(*e);
        env.push_back("CONTAINER_ID=" + std::to_string(inst.id));
        env.push_back("PUBLIC_IPADDR=" + exec_.public_ip);
        if (inst.row.contains("extra_env") && inst.row["extra_env"].is_array())
            for (const auto& kv : inst.row["extra_env"]) {
                std::string k = kv.at(0).get<std::string>();
                if (k.rfind("-p ", 0) != 0) continue;
                std::string internal = k.substr(k.find(':') + 1);
                internal = internal.substr(0, internal.find('/'));
                env.push_back("VAST_TCP_PORT_" + internal + "=" + std::to_string(free_port()));
            }
        std::vector<char*> envp;
        for (auto& e : env) envp.push_back(e.data());
        envp.push_back(nullptr);
        std::string log = exec_.dir + "/instance-" + std::to_string(inst.id) + ".log";
        ::signal(SIGCHLD, SIG_IGN); // reap them automatically
        pid_t pid = ::fork();
        if (pid == 0) {
            ::setsid();
            int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
            if (fd >= 0) {
                ::dup2(fd, 1);
                ::dup2(fd, 2);
            }
            int null = ::open("/dev/null", O_RDONLY);
            if (null >= 0) ::dup2(null, 0);
            if (::chdir(exec_.dir.c_str()) != 0) ::_exit(126);
            ::execle("/bin/sh", "sh", "-c", onstart.c_str(), static_cast<char*>(nullptr),
                     envp.data());
            ::_exit(127);
        }
        if (pid > 0) procs_[inst.id] = pid;
    }

    void kill_proc(std::int64_t id) {
        auto it = procs_.find(id);
        if (it == procs_.end()) return;
        ::kill(-it->second, SIGTERM);
        procs_.erase(it);
    }

    void kill_all() {
        while (!procs_.empty()) kill_proc(procs_.begin()->first);
    }

    FakeServer& srv_;
    VastState st_;
    std::optional<json> label_counts_; ///< label_counts of the listing, until the next change

    // -- auth (spec §1.4, §9.1, §10) ----------------------------------------------------------

    /// Who is calling: the account (TESTKEY...), an instance key (its instance id), or nobody.
    struct Caller {
        bool account = false;
        std::optional<std::int64_t> instance;
    };

    std::optional<std::string> presented_key(Call& c, AuthKind& kind) const {
        if (auto b = c.bearer()) {
            kind = AuthKind::bearer;
            return b;
        }
        if (auto q = c.param("api_key")) {
            kind = AuthKind::query;
            return q;
        }
        kind = AuthKind::none;
        return std::nullopt;
    }

    Caller classify(Call& c) const {
        AuthKind kind;
        auto key = presented_key(c, kind);
        Caller who;
        if (key) {
            if (std::find(st_.keys.begin(), st_.keys.end(), *key) != st_.keys.end()) {
                who.account = true;
            } else {
                for (const auto& [id, inst] : st_.instances)
                    if (inst.api_key == *key) who.instance = id;
            }
        }
        c.set_auth(kind, who.account || who.instance.has_value());
        return who;
    }

    /// Requires the account key; an instance key gets 403, anything else 401.
    void require_account(Call& c) const {
        Caller who = classify(c);
        if (who.account) return;
        if (who.instance)
            throw HttpError{vast_error(403, "forbidden",
                                       "error 403: this key may only manage its own instance")};
        throw HttpError{auth_error()};
    }

    /// Requires the account key or the key of instance `id` (spec §10).
    void require_owner(Call& c, std::int64_t id) const {
        Caller who = classify(c);
        if (who.account || (who.instance && *who.instance == id)) return;
        if (who.instance)
            throw HttpError{vast_error(403, "forbidden",
                                       "error 403: this key may only manage its own instance")};
        throw HttpError{auth_error()};
    }

    // -- pacing (spec §9.4) --------------------------------------------------------------------

    /// Registers a provider route whose calls are paced per route and caller when enabled.
    /// A control route that may change instances (and so the label counts).
    void control_post(const std::string& pattern, std::function<Reply(Call&)> handler) {
        srv_.control("POST", pattern, [this, handler = std::move(handler)](Call& c) {
            label_counts_.reset();
            return handler(c);
        });
    }

    void add(const std::string& method, const std::string& pattern,
             std::function<Reply(Call&)> handler) {
        std::string route = method + " " + pattern;
        srv_.route(method, pattern, [this, route, method, handler = std::move(handler)](Call& c) {
            check_pace(route, c);
            if (method != "GET") label_counts_.reset(); // labels may change
            return handler(c);
        });
    }

    void check_pace(const std::string& route, Call& c) {
        if (!st_.pace) return;
        auto t = st_.thresholds.find(route);
        if (t == st_.thresholds.end()) return;
        AuthKind kind;
        auto key = presented_key(c, kind);
        std::string who = route + "|" + (key ? "key:" + *key : "ip:" + c.req.remote_addr);
        auto now = std::chrono::steady_clock::now();
        auto last = st_.last_call.find(who);
        if (last != st_.last_call.end() &&
            now - last->second < std::chrono::duration<double>(t->second))
            throw HttpError{too_frequent(t->second)};
        st_.last_call[who] = now;
    }

    // -- instances: state model (spec §4.6) -------------------------------------------------

    Instance* find(std::int64_t id) {
        auto it = st_.instances.find(id);
        return it == st_.instances.end() ? nullptr : &it->second;
    }

    /// The instance gets its machine's GPUs now (boot from `null_s`/`loading_s`).
    void take_gpus(Instance& inst, std::int64_t now, std::int64_t null_s, std::int64_t loading_s) {
        inst.holding = true;
        inst.scheduling = false;
        inst.boot_at = now;
        inst.null_s = exec_.enabled ? 0 : null_s;
        inst.loading_s = exec_.enabled ? 0 : loading_s;
        st_.held[inst.machine_id] = inst.id;
        if (exec_.enabled) spawn(inst);
    }

    bool machine_free(std::int64_t machine) const {
        return !st_.held.contains(machine) && !st_.stolen.contains(machine);
    }

    /// Releases `inst`'s GPUs; the lowest-id instance scheduling on that machine takes them.
    void free_gpus(Instance& inst, std::int64_t now) {
        if (!inst.holding) return;
        inst.holding = false;
        kill_proc(inst.id);
        st_.held.erase(inst.machine_id);
        hand_over(inst.machine_id, now);
    }

    void hand_over(std::int64_t machine, std::int64_t now) {
        if (!machine_free(machine)) return;
        for (auto& [id, other] : st_.instances)
            if (other.machine_id == machine && other.scheduling) {
                take_gpus(other, now, 0, 30);
                return;
            }
    }

    void set_state(Instance& inst, const std::string& state, std::int64_t now) {
        inst.manual = json::object();
        if (state == "stopped") {
            inst.intended = "stopped";
            inst.scheduling = false;
            free_gpus(inst, now);
        } else if (inst.intended != "running" || (!inst.holding && !inst.scheduling)) {
            inst.intended = "running";
            if (machine_free(inst.machine_id))
                take_gpus(inst, now, 0, 30);
            else
                inst.scheduling = true;
        }
    }

    void destroy(std::int64_t id, std::int64_t now) {
        Instance* inst = find(id);
        if (!inst) return;
        free_gpus(*inst, now);
        st_.instances.erase(id);
        st_.destroyed.insert(id);
    }

    /// The fields of an instance that change with its state and the fake time (spec §4.6, §4.7):
    /// actual_status, intended_status, cur_state, next_state, status_msg, gpu_util, gpu_temp,
    /// uptime_mins, duration, and ports (null unless running); patched status fields win.
    json status(const Instance& inst, std::int64_t now) const {
        const json* image = inst.row.contains("image_uuid") ? &inst.row["image_uuid"] : nullptr;
        std::string img = image && image->is_string() ? image->get<std::string>() : "";
        json actual = "stopped", cur = "stopped", next = "stopped", msg = nullptr;
        std::int64_t running_since = 0;
        if (inst.intended == "running" && inst.holding) {
            cur = next = "running";
            std::int64_t t = now - inst.boot_at;
            if (t < inst.null_s) {
                actual = nullptr;
            } else if (t < inst.null_s + inst.loading_s) {
                actual = "loading";
                msg = "Pulling image " + img;
            } else {
                actual = "running";
                msg = "success, running " + img;
                running_since = inst.boot_at + inst.null_s + inst.loading_s;
            }
        } else if (inst.intended == "running") {
            next = "running";
            msg = "Scheduling: waiting for the machine's GPUs";
        }
        json st = {{"actual_status", actual}, {"intended_status", inst.intended},
                   {"cur_state", cur}, {"next_state", next}, {"status_msg", msg}};
        for (const auto& [k, v] : inst.manual.items()) st[k] = v;
        bool running = st["actual_status"] == "running";
        st["gpu_util"] = running ? inst.gpu_util : json(nullptr);
        st["gpu_temp"] = running ? json(41.0) : json(nullptr);
        st["uptime_mins"] = running && running_since
                                ? json(static_cast<double>(now - running_since) / 60.0)
                                : json(nullptr);
        if (!running) st["ports"] = nullptr;
        const json& end = inst.row["end_date"];
        st["duration"] = end.is_number() ? json(end.get<double>() - static_cast<double>(now)) : json();
        return st;
    }

    /// Column `col` of an instance, given its status(): the status field or the stored one.
    static json column(const Instance& inst, const json& st, const std::string& col) {
        if (auto it = st.find(col); it != st.end()) return *it;
        if (auto it = inst.row.find(col); it != inst.row.end()) return *it;
        return nullptr;
    }

    /// The instance row as the API shows it at fake time `now` (spec §4.5).
    json row(const Instance& inst, std::int64_t now) const {
        json r = inst.row;
        const json st = status(inst, now);
        for (const auto& [k, v] : st.items()) r[k] = v;
        return r;
    }

    /// Builds the static row of a new instance from `offer` and a create body (spec §3.1).
    /// The id-dependent fields are set by add_instance().
    json new_row(const json& offer, const json& body, std::int64_t now) const {
        json env = json::array();
        json ports = {{"22/tcp", json::array({{{"HostIp", "0.0.0.0"}, {"HostPort", "40001"}}})}};
        auto add_env = [&](const std::string& k, const std::string& v) {
            env.push_back(json::array({k, v}));
            if (k.rfind("-p ", 0) == 0) {
                std::string spec = k.substr(3);
                std::string internal = spec.substr(spec.find(':') + 1);
                if (internal.find('/') == std::string::npos) internal += "/tcp";
                std::string host = std::to_string(40002 + ports.size() - 1);
                ports[internal] = json::array({{{"HostIp", "0.0.0.0"}, {"HostPort", host}}});
            }
        };
        if (body.contains("env") && body["env"].is_object()) {
            for (const auto& [k, v] : body["env"].items())
                add_env(k, v.is_string() ? v.get<std::string>() : v.dump());
        } else if (body.contains("env") && body["env"].is_string()) {
            // docker-flag string form ("-e A=b -p 8000:8000")
            std::vector<std::string> words;
            std::string w, s = body["env"].get<std::string>();
            for (char c : s + " ") {
                if (c == ' ') {
                    if (!w.empty()) words.push_back(w), w.clear();
                } else {
                    w += c;
                }
            }
            for (std::size_t i = 0; i + 1 < words.size(); i += 2) {
                if (words[i] == "-e") {
                    auto eq = words[i + 1].find('=');
                    add_env(words[i + 1].substr(0, eq),
                            eq == std::string::npos ? "" : words[i + 1].substr(eq + 1));
                } else if (words[i] == "-h") {
                    add_env("-h", words[i + 1]);
                } else {
                    add_env(words[i] + " " + words[i + 1], "1");
                }
            }
        }
        double disk = as_number(body.value("disk", json(10))).value_or(10.0);
        bool bid = body.contains("price") && body["price"].is_number();
        double dph_base = bid ? body["price"].get<double>() : offer.value("dph_base", 0.0);
        double storage_cost = offer.value("storage_cost", 0.15);
        double storage_total = storage_cost * disk / 720.0;
        auto str_or_null = [&](const char* k) {
            return body.contains(k) && body[k].is_string() ? body[k] : json(nullptr);
        };
        json args = body.contains("args") && body["args"].is_array() ? body["args"] : json::array();
        return {
            {"machine_id", offer.value("machine_id", json(nullptr))},
            {"host_id", offer.value("host_id", json(nullptr))},
            {"bundle_id", offer.value("bundle_id", json(nullptr))},
            {"label", str_or_null("label")}, {"image_uuid", str_or_null("image")},
            {"image_args", args},
            {"image_runtype", body.contains("runtype") && body["runtype"].is_string()
                                  ? body["runtype"] : json("ssh")},
            {"onstart", str_or_null("onstart")}, {"extra_env", env},
            {"template_id", nullptr}, {"template_hash_id", str_or_null("template_hash_id")},
            {"template_name", nullptr},
            {"num_gpus", offer.value("num_gpus", 1)}, {"gpu_name", offer.value("gpu_name", "")},
            {"gpu_arch", offer.value("gpu_arch", "nvidia")},
            {"gpu_ram", offer.value("gpu_ram", json(nullptr))},
            {"gpu_totalram", offer.value("gpu_total_ram", json(nullptr))},
            {"gpu_frac", offer.value("gpu_frac", 1.0)},
            {"cpu_name", offer.value("cpu_name", json(nullptr))},
            {"cpu_arch", offer.value("cpu_arch", "amd64")},
            {"cpu_cores", offer.value("cpu_cores", json(nullptr))},
            {"cpu_cores_effective", offer.value("cpu_cores_effective", json(nullptr))},
            {"cpu_ram", offer.value("cpu_ram", json(nullptr))}, {"cpu_util", 0.03},
            {"mem_usage", nullptr}, {"mem_limit", nullptr}, {"vmem_usage", nullptr},
            {"disk_space", disk}, {"disk_usage", 5.2}, {"disk_util", 5.2 / disk},
            {"disk_name", offer.value("disk_name", json(nullptr))},
            {"disk_bw", offer.value("disk_bw", json(nullptr))},
            {"inet_up", offer.value("inet_up", json(nullptr))},
            {"inet_down", offer.value("inet_down", json(nullptr))},
            {"inet_up_cost", offer.value("inet_up_cost", json(nullptr))},
            {"inet_down_cost", offer.value("inet_down_cost", json(nullptr))},
            {"public_ipaddr", offer.value("public_ipaddr", json(nullptr))},
            {"local_ipaddrs", "10.0.0.2"}, {"direct_port_start", 40000},
            {"direct_port_end", 40010}, {"direct_port_count", offer.value("direct_port_count", 0)},
            {"machine_dir_ssh_port", 40001}, {"ports", ports},
            {"start_date", static_cast<double>(now)},
            {"end_date", offer.value("end_date", static_cast<double>(now + 86400 * 30))},
            {"dph_base", dph_base}, {"dph_total", dph_base + storage_total},
            {"storage_cost", storage_cost}, {"storage_total_cost", storage_total},
            {"min_bid", offer.value("min_bid", json(nullptr))}, {"is_bid", bid},
            {"reliability2", offer.value("reliability2", json(nullptr))},
            {"geolocation", offer.value("geolocation", json(nullptr))},
            {"country_code", offer.contains("geolocation") && offer["geolocation"].is_string()
                                 ? json(country_code(offer["geolocation"].get<std::string>()))
                                 : json(nullptr)},
            {"verification", offer.value("verification", json(nullptr))},
            {"rentable", true}, {"static_ip", offer.value("static_ip", false)},
            {"external", offer.value("external", false)}, {"volume_info", json::array()},
            {"hosting_type", offer.value("hosting_type", 0)}};
    }

    /// Adds an instance with the next id, the static `row` (from new_row) on `machine`, booting
    /// now when `start`, else stopped; returns it.
    Instance& add_instance(json row, std::int64_t machine, std::int64_t now, bool start) {
        std::int64_t id = st_.next_id++;
        Instance inst;
        inst.id = id;
        inst.machine_id = machine;
        row["id"] = id;
        row["machine_id"] = machine;
        row["ssh_host"] = "ssh" + std::to_string(id % 9 + 1) + ".vast.ai";
        row["ssh_port"] = 20000 + id % 40000;
        row["ssh_idx"] = std::to_string(id % 9 + 1);
        row["jupyter_token"] = hex_key("jupyter:" + std::to_string(id));
        inst.row = std::move(row);
        inst.api_key = hex_key("instance:" + std::to_string(id));
        auto& ref = st_.instances[id] = std::move(inst);
        if (start)
            take_gpus(ref, now, 10, 50);
        else
            ref.intended = "stopped";
        return ref;
    }

    // -- offers (spec §2) ----------------------------------------------------------------------

    const json* offer_by_id(std::int64_t id) const {
        for (const auto& o : st_.offers)
            if (o.value("id", std::int64_t{-1}) == id) return &o;
        return nullptr;
    }

    /// An offer as search shows it: availability from the machines, prices for `storage_gb`.
    json priced(const json& offer, double storage_gb, const std::string& type) const {
        json o = offer;
        std::int64_t machine = o.value("machine_id", std::int64_t{0});
        bool free = machine_free(machine);
        if (!free) o["rentable"] = false;
        o["rented"] = st_.held.contains(machine);
        bool bid = type == "bid";
        double base = o.value("dph_base", 0.0);
        if (bid && o["min_bid"].is_number()) base = o["min_bid"].get<double>();
        double storage = o.value("storage_cost", 0.0) * storage_gb / 720.0;
        double total = base + storage;
        o["is_bid"] = bid;
        o["storage_total_cost"] = storage;
        o["dph_total"] = total;
        if (o["dlperf"].is_number() && total > 0)
            o["dlperf_per_dphtotal"] = o["dlperf"].get<double>() / total;
        if (o["total_flops"].is_number() && total > 0)
            o["flops_per_dphtotal"] = o["total_flops"].get<double>() / total;
        if (type == "reserved") {
            o["discount_rate"] = 0.4;
            o["discounted_dph_total"] = total * 0.6;
        }
        o["search"] = {{"gpuCostPerHour", base}, {"diskHour", storage}, {"totalHour", total},
                       {"discountTotalHour", 0.0}, {"discountedTotalPerHour", total}};
        return o;
    }

    Reply search(const json& q) const {
        if (!q.is_object())
            throw HttpError{Reply::json(400, {{"error", "invalid_request"}, {"msg", "Invalid json body"}})};
        std::string type = q.contains("type") && q["type"].is_string() ? q["type"].get<std::string>()
                                                                        : "on-demand";
        if (type == "ondemand") type = "on-demand";
        if (type == "interruptible") type = "bid";
        if (type != "on-demand" && type != "bid" && type != "reserved")
            throw HttpError{Reply::json(400, {{"error", "invalid_request"},
                                              {"msg", "Invalid type: " + type}})};
        double storage = q.contains("allocated_storage")
                             ? as_number(q["allocated_storage"]).value_or(8.0) : 8.0;
        static const std::set<std::string> not_columns{
            "order", "type", "limit", "allocated_storage", "disable_bundling", "extra_ids",
            "target_reliability", "template_id", "gpu_option", "show_incompatible",
            "sort_option", "rented"};
        std::vector<json> rows;
        for (const auto& offer : st_.offers) {
            json o = priced(offer, storage, type);
            bool ok = true;
            for (const auto& [col, ops] : q.items()) {
                if (not_columns.contains(col) || !o.contains(col)) continue; // unknown: ignored
                if (!match_column(o, col, ops)) {
                    ok = false;
                    break;
                }
            }
            if (ok) rows.push_back(std::move(o));
        }
        std::vector<SortKey> keys;
        json order = q.contains("order") ? q["order"] : json::array({json::array({"score", "desc"})});
        if (order.is_array())
            for (const auto& k : order)
                if (k.is_array() && !k.empty() && k[0].is_string())
                    keys.push_back({k[0].get<std::string>(),
                                    k.size() > 1 && k[1] == "desc"});
        keys.push_back({"id", false});
        std::stable_sort(rows.begin(), rows.end(),
                         [&](const json& a, const json& b) { return compare_rows(a, b, keys) < 0; });
        if (q.contains("limit") && !q["limit"].is_null()) {
            auto lim = as_number(q["limit"]);
            if (lim && *lim >= 0 && rows.size() > static_cast<std::size_t>(*lim))
                rows.resize(static_cast<std::size_t>(*lim));
        }
        return Reply::json(200, {{"offers", rows}});
    }

    void add_offer_routes() {
        add("POST", "/api/v0/bundles/", [this](Call& c) {
            Caller who = classify(c);
            if (c.auth != AuthKind::none && !who.account) require_account(c);
            return search(c.json_body(Reply::json(400, {{"error", "invalid_request"},
                                                        {"msg", "Invalid json body"}})));
        });
        add("PUT", "/api/v0/search/asks/", [this](Call& c) {
            Caller who = classify(c);
            if (c.auth != AuthKind::none && !who.account) require_account(c);
            json b = c.json_body(Reply::json(400, {{"error", "invalid_request"},
                                                   {"msg", "Invalid json body"}}));
            return search(b.is_object() && b.contains("q") ? b["q"] : json::object());
        });
        add("PUT", "/api/v0/asks/*/", [this](Call& c) {
            require_account(c);
            std::int64_t ask = c.wild_int(0, default_error(404));
            json body = c.json_body(vast_error(400, "invalid_args",
                                               "error 400/1782: Invalid args: invalid json: " +
                                                   c.req.body));
            if (!body.is_object())
                throw HttpError{vast_error(400, "invalid_args", "error 400/1782: Invalid args")};
            return create_reply(ask, body, c.now);
        });
        add("POST", "/api/v0/asks/bulk/", [this](Call& c) {
            require_account(c);
            json body = c.json_body(vast_error(400, "invalid_args", "error 400/1782: Invalid args"));
            if (!body.is_object() || !body.contains("ids") || !body["ids"].is_array())
                throw HttpError{vast_error(400, "invalid_args", "error 400/1782: ids required")};
            json results = json::array();
            for (const auto& id : body["ids"]) {
                auto ask = as_number(id);
                Reply r = ask ? create_reply(static_cast<std::int64_t>(*ask), body, c.now)
                              : vast_error(400, "invalid_args", "bad id");
                results.push_back(json::parse(r.body));
            }
            return Reply::json(200, {{"success", true}, {"results", results}});
        });
    }

    Reply create_reply(std::int64_t ask, const json& body, std::int64_t now) {
        const json* offer = offer_by_id(ask);
        std::string n = std::to_string(ask);
        if (!offer)
            return Reply::json(404, {{"success", false}, {"error", "invalid_args"}, {"ask_id", ask},
                                     {"msg", "error 404/3603: no_such_ask Instance type by id " + n +
                                                 " is not available."}});
        std::int64_t machine = offer->value("machine_id", std::int64_t{0});
        bool cancel_unavail = body.value("cancel_unavail", false);
        bool taken = st_.held.contains(machine) || !offer->value("rentable", true);
        bool unavailable = st_.stolen.contains(machine);
        if (taken || (unavailable && cancel_unavail))
            return Reply::json(410, {{"success", false}, {"error", "no_such_ask"}, {"ask_id", ask},
                                     {"msg", "error 410/3907: no_such_ask Instance type " + n +
                                                 " is no longer available."}});
        bool start = !unavailable && body.value("target_state", std::string("running")) != "stopped";
        Instance& inst = add_instance(new_row(*offer, body, now), machine, now, start);
        return Reply::json(200, {{"success", true}, {"new_contract", inst.id},
                                 {"instance_api_key", inst.api_key}});
    }

    // -- instances (spec §4, §5, §6, §7, §8) --------------------------------------------------

    static Reply list_error(const std::string& msg) {
        return Reply::json(400, {{"error", "invalid_request"},
                                 {"msg", "Error in query parameters: " + msg}});
    }

    /// Parses a JSON query parameter; 400 invalid_request when malformed.
    static json json_param(Call& c, const std::string& name, json dflt) {
        auto v = c.param(name);
        if (!v) return dflt;
        auto j = json::parse(*v, nullptr, false);
        if (j.is_discarded()) throw HttpError{list_error(name + " is not valid JSON")};
        return j;
    }

    /// The keyset cursor of `r` for `keys`, in the token format the CLI was seen receiving:
    /// base64 of Python-style JSON `{"values": {"id": 4264}}`.
    static std::string make_token(const json& r, const std::vector<SortKey>& keys) {
        std::string s = "{\"values\": {";
        for (std::size_t i = 0; i < keys.size(); ++i) {
            if (i) s += ", ";
            s += json(keys[i].col).dump() + ": " + (r.contains(keys[i].col) ? r[keys[i].col] : json()).dump();
        }
        return gpuctl::fake::base64_encode(s + "}}");
    }

    Reply list(Call& c) {
        static const std::set<std::string> filterable{
            "id", "actual_status", "intended_status", "cur_state", "next_state", "gpu_name",
            "verification", "label", "machine_id", "host_id", "image_uuid", "image_runtype",
            "start_date", "end_date", "is_bid", "template_id", "template_hash_id", "geolocation",
            "status_msg"};
        json filters = json_param(c, "select_filters", json::object());
        if (!filters.is_object()) throw HttpError{list_error("select_filters must be an object")};
        for (const auto& [col, ops] : filters.items())
            if (!filterable.contains(col))
                throw HttpError{list_error(col + " is not a valid search key")};
        json order = json_param(c, "order_by", json::array({{{"col", "id"}, {"dir", "asc"}}}));
        if (!order.is_array()) throw HttpError{list_error("order_by must be a list")};
        std::vector<SortKey> keys;
        for (const auto& o : order) {
            if (!o.is_object() || !o.contains("col") || !o["col"].is_string())
                throw HttpError{list_error("order_by entries need a col")};
            std::string col = o["col"];
            if (!filterable.contains(col))
                throw HttpError{list_error(col + " is not a valid order column")};
            if (col == "id" && !keys.empty() && keys.back().col == "id") continue;
            keys.push_back({col, o.value("dir", std::string("asc")) == "desc"});
        }
        if (keys.empty() || keys.back().col != "id") keys.push_back({"id", false});
        long limit = 25;
        if (auto l = c.param("limit")) {
            auto n = as_number(json(*l));
            if (!n) throw HttpError{list_error("limit must be an integer")};
            limit = static_cast<long>(*n);
            if (limit <= 0) limit = 5;
            if (limit > 25) limit = 25;
        }
        json cols = json_param(c, "select_cols", json::array({"*"}));
        std::optional<json> cursor;
        if (auto tok = c.param("after_token")) {
            auto raw = gpuctl::fake::base64_decode(*tok);
            json t = raw ? json::parse(*raw, nullptr, false) : json();
            if (!raw || t.is_discarded() || !t.is_object() || !t.contains("values") ||
                !t["values"].is_object() || !t["values"].contains("id"))
                throw HttpError{Reply::json(400, {{"error", "invalid_token"},
                                                  {"msg", "Invalid pagination token"}})};
            cursor = t["values"];
        }

        // Filter and sort light views (the filter and order columns only); full rows for the page.
        std::set<std::string> needed;
        for (const auto& [col, ops] : filters.items()) needed.insert(col);
        for (const auto& k : keys) needed.insert(k.col);
        static const std::set<std::string> live{"actual_status", "intended_status", "cur_state",
                                                "next_state", "status_msg", "gpu_util", "gpu_temp",
                                                "uptime_mins", "duration", "ports"};
        bool need_status = std::any_of(needed.begin(), needed.end(),
                                       [](const std::string& col) { return live.contains(col); });
        json label_counts = json::object();
        std::vector<std::pair<json, const Instance*>> rows;
        // The common listing (no filter, id order) walks the id-ordered map from the cursor
        // instead of building and sorting a view of every instance for each page.
        const bool by_id_only = filters.empty() && keys.size() == 1 && keys[0].col == "id" &&
                                !keys[0].desc && (!cursor || (*cursor)["id"].is_number_integer());
        if (by_id_only) {
            // Counted once per change of state, not once per page (5,000 instances × 200 pages).
            if (!label_counts_) {
                std::map<std::string, long> counts;
                for (const auto& [id, inst] : st_.instances) {
                    auto it = inst.row.find("label");
                    ++counts[it != inst.row.end() && it->is_string() ? it->get<std::string>() : ""];
                }
                label_counts_ = json::object();
                for (const auto& [name, n] : counts) (*label_counts_)[name] = n;
            }
            label_counts = *label_counts_;
            auto it = cursor ? st_.instances.upper_bound((*cursor)["id"].get<std::int64_t>())
                             : st_.instances.begin();
            for (; it != st_.instances.end() && rows.size() <= static_cast<std::size_t>(limit); ++it)
                rows.emplace_back(json{{"id", it->first}}, &it->second);
            cursor.reset(); // already applied
        }
        for (const auto& [id, inst] : st_.instances) {
            if (by_id_only) break;
            const json st = need_status ? status(inst, c.now) : json::object();
            json label = column(inst, st, "label");
            std::string name = label.is_string() ? label.get<std::string>() : "";
            label_counts[name] = label_counts.value(name, 0) + 1;
            json view = json::object();
            for (const auto& col : needed) view[col] = column(inst, st, col);
            bool ok = true;
            for (const auto& [col, ops] : filters.items())
                if (!match_column(view, col, ops)) {
                    ok = false;
                    break;
                }
            if (ok) rows.emplace_back(std::move(view), &inst);
        }
        std::sort(rows.begin(), rows.end(), [&](const auto& a, const auto& b) {
            return compare_rows(a.first, b.first, keys) < 0;
        });
        std::size_t start = 0;
        if (cursor)
            while (start < rows.size() && compare_rows(rows[start].first, *cursor, keys) <= 0) ++start;
        std::size_t end = std::min(rows.size(), start + static_cast<std::size_t>(limit));
        json page = json::array();
        bool all_cols = !cols.is_array() || std::find(cols.begin(), cols.end(), "*") != cols.end();
        for (std::size_t i = start; i < end; ++i) {
            json full = row(*rows[i].second, c.now);
            if (all_cols) {
                page.push_back(std::move(full));
            } else {
                json sel = json::object();
                for (const auto& k : cols)
                    if (k.is_string()) sel[k.get<std::string>()] = full.value(k.get<std::string>(), json());
                page.push_back(std::move(sel));
            }
        }
        json next = end < rows.size() ? json(make_token(rows[end - 1].first, keys)) : json(nullptr);
        return Reply::json(200, {{"success", true}, {"instances_found", page.size()},
                                 {"total_instances", by_id_only ? st_.instances.size() : rows.size()},
                                 {"label_counts", label_counts},
                                 {"next_token", next}, {"instances", page}});
    }

    static Reply no_such_instance(std::int64_t id) {
        return vast_error(404, "no_such_instance", "Instance " + std::to_string(id) + " not found.");
    }

    Reply update(Call& c, std::int64_t id, const json& body) {
        Instance* inst = find(id);
        if (!inst) return no_such_instance(id);
        if (body.contains("state")) {
            if (body["state"] != "running" && body["state"] != "stopped")
                return vast_error(400, "invalid_args", "error 400: state must be running or stopped");
        }
        if (body.contains("label")) {
            if (!body["label"].is_string() && !body["label"].is_null())
                return vast_error(400, "invalid_args", "error 400: label must be a string");
            if (body["label"].is_string() && body["label"].get<std::string>().size() > 1024)
                return vast_error(400, "label_too_long", "Please limit label length to 1024 characters.");
        }
        if (!body.contains("state") && !body.contains("label"))
            return vast_error(400, "invalid_args", "error 400/1782: Invalid args");
        if (body.contains("state")) set_state(*inst, body["state"].get<std::string>(), c.now);
        if (body.contains("label"))
            inst->row["label"] = body["label"].is_string() && body["label"] != "" ? body["label"] : json();
        return Reply::json(200, {{"success", true}});
    }

    void add_instance_routes() {
        add("GET", "/api/v1/instances/", [this](Call& c) {
            require_account(c);
            return list(c);
        });
        add("GET", "/api/v0/instances/", [](Call&) {
            return vast_error(410, "deprecated_endpoint",
                              "/api/v0/instances/ is deprecated. Use /api/v1/instances/ instead.");
        });
        add("GET", "/api/v0/instances/filters/", [this](Call& c) {
            require_account(c);
            std::set<std::tuple<std::string, std::string, std::string>> seen;
            json filters = json::array();
            for (const auto& [id, inst] : st_.instances) {
                json r = row(inst, c.now);
                auto s = [&](const char* k) { return r[k].is_string() ? r[k].get<std::string>() : ""; };
                if (seen.insert({s("actual_status"), s("verification"), s("gpu_name")}).second)
                    filters.push_back({{"actual_status", r["actual_status"]},
                                       {"verification", r["verification"]},
                                       {"gpu_name", r["gpu_name"]}});
            }
            return Reply::json(200, {{"filters", filters}});
        });
        add("GET", "/api/v0/instances/*/", [this](Call& c) {
            std::int64_t id = c.wild_int(0, vast_error(400, "invalid_args", "error 400: invalid id"));
            require_owner(c, id);
            const Instance* inst = find(id);
            return Reply::json(200, {{"instances", inst ? row(*inst, c.now) : json(nullptr)}});
        });
        add("PUT", "/api/v0/instances/*/", [this](Call& c) {
            std::int64_t id = c.wild_int(0, vast_error(400, "invalid_args", "error 400: invalid id"));
            require_owner(c, id);
            json body = c.json_body(vast_error(400, "invalid_args", "error 400/1782: Invalid args: invalid json"));
            if (!body.is_object()) return vast_error(400, "invalid_args", "error 400/1782: Invalid args");
            return update(c, id, body);
        });
        add("DELETE", "/api/v0/instances/*/", [this](Call& c) {
            std::int64_t id = c.wild_int(0, vast_error(400, "invalid_args", "error 400: invalid id"));
            require_owner(c, id);
            if (!find(id) && !st_.destroyed.contains(id))
                return vast_error(404, "not_found", "Instance not found");
            destroy(id, c.now);
            return Reply::json(200, {{"success", true}});
        });
        add("PUT", "/api/v0/instances/", [this](Call& c) {
            require_account(c);
            json body = c.json_body(vast_error(400, "invalid_args", "error 400/1782: Invalid args: invalid json"));
            if (!body.is_object() || !body.contains("ids") || !body["ids"].is_array() ||
                (body.value("state", json()) != "running" && body.value("state", json()) != "stopped"))
                return vast_error(400, "invalid_args", "error 400/1782: Invalid args");
            for (const auto& id : body["ids"])
                if (auto n = as_number(id); n && find(static_cast<std::int64_t>(*n)))
                    set_state(*find(static_cast<std::int64_t>(*n)), body["state"].get<std::string>(), c.now);
            return Reply::json(200, {{"success", true}});
        });
        add("DELETE", "/api/v0/instances/", [this](Call& c) {
            require_account(c);
            json body = c.json_body(vast_error(400, "invalid_args", "error 400/1782: Invalid args: invalid json"));
            if (!body.is_object() || !body.contains("instance_ids") || !body["instance_ids"].is_array())
                return vast_error(400, "invalid_args", "error 400/1782: Invalid args");
            for (const auto& id : body["instance_ids"])
                if (auto n = as_number(id)) destroy(static_cast<std::int64_t>(*n), c.now);
            return Reply::json(200, {{"success", true}});
        });
    }

    // -- public routes -------------------------------------------------------------------------

    void add_public_routes() {
        add("GET", "/api/v0/gpu_names/unique/", [this](Call&) {
            std::set<std::string> names;
            for (const auto& o : st_.offers)
                if (o.contains("gpu_name") && o["gpu_name"].is_string()) names.insert(o["gpu_name"]);
            return Reply::json(200, {{"gpu_names", names}});
        });
    }

    // -- control API (README "fake_vast specifics") ------------------------------------------

    static Reply bad(const std::string& msg) { return Reply::json(400, {{"error", msg}}); }

    json dump(std::int64_t now) const {
        json instances = json::array();
        for (const auto& [id, inst] : st_.instances) {
            json r = row(inst, now);
            r["__api_key"] = inst.api_key;
            r["__holding"] = inst.holding;
            r["__scheduling"] = inst.scheduling;
            r["__pid"] = procs_.contains(id) ? json(procs_.at(id)) : json(nullptr);
            instances.push_back(std::move(r));
        }
        json thresholds = json::object();
        for (const auto& [k, v] : st_.thresholds) thresholds[k] = v;
        return {{"now", now}, {"offers", st_.offers}, {"instances", instances},
                {"destroyed", st_.destroyed}, {"stolen_machines", st_.stolen},
                {"keys", st_.keys}, {"next_id", st_.next_id},
                {"pace", {{"enabled", st_.pace}, {"thresholds", thresholds}}}};
    }

    /// The machine named by a steal/release body: {"id": INSTANCE} | {"offer": ID} | {"machine_id": M}.
    std::optional<std::int64_t> machine_of(const json& b) {
        if (b.contains("id") && b["id"].is_number_integer()) {
            if (Instance* inst = find(b["id"].get<std::int64_t>())) return inst->machine_id;
        } else if (b.contains("offer") && b["offer"].is_number_integer()) {
            if (const json* o = offer_by_id(b["offer"].get<std::int64_t>()))
                return o->value("machine_id", std::int64_t{0});
        } else if (b.contains("machine_id") && b["machine_id"].is_number_integer()) {
            return b["machine_id"].get<std::int64_t>();
        }
        return std::nullopt;
    }

    void add_controls() {
        control_post("/__control/exec", [this](Call& c) {
            json b = c.json_body(bad("body is not JSON"));
            exec_.enabled = b.value("enabled", true);
            exec_.dir = b.value("dir", exec_.dir);
            exec_.public_ip = b.value("public_ip", exec_.public_ip);
            if (!exec_.enabled) kill_all();
            return Reply::json(200, {{"enabled", exec_.enabled}, {"dir", exec_.dir}});
        });
        control_post("/__control/keys", [this](Call& c) {
            json b = c.json_body(bad("body is not JSON"));
            if (!b.is_object() || !b.contains("keys") || !b["keys"].is_array())
                return bad("expected {\"keys\": [...]}");
            st_.keys = b["keys"].get<std::vector<std::string>>();
            return Reply::json(200, {{"ok", true}});
        });
        control_post("/__control/offers", [this](Call& c) {
            json b = c.json_body(bad("body is not JSON"));
            if (!b.is_object() || !b.contains("offers") || !b["offers"].is_array())
                return bad("expected {\"offers\": [...]}");
            for (auto& o : b["offers"]) {
                if (!o.is_object() || !o.contains("id") || !o["id"].is_number_integer())
                    return bad("every offer needs an integer id");
                if (!o.contains("machine_id")) o["machine_id"] = o["id"];
            }
            st_.offers = b["offers"];
            return Reply::json(200, {{"ok", true}, {"count", st_.offers.size()}});
        });
        control_post("/__control/instances", [this](Call& c) {
            json b = c.json_body(bad("body is not JSON"));
            if (!b.is_object()) return bad("expected an object");
            int count = b.value("count", 1);
            if (count < 0 || count > 100000) return bad("count out of range");
            std::string gpu = b.value("gpu_name", std::string("RTX 4090"));
            json offer = st_.offers.empty() ? default_offers()[0] : st_.offers[0];
            for (const auto& o : st_.offers)
                if (o.value("gpu_name", std::string()) == gpu) {
                    offer = o;
                    break;
                }
            offer["gpu_name"] = gpu;
            json body = {{"image", b.value("image", std::string("pytorch/pytorch:latest"))},
                         {"label", b.contains("label") ? b["label"] : json()},
                         {"disk", b.value("disk", 32.0)}, {"runtype", "ssh_direc ssh_proxy"}};
            json ids = json::array();
            const json tmpl = new_row(offer, body, c.now);
            for (int i = 0; i < count; ++i) {
                // each on its own machine, never a catalogue one
                Instance& inst = add_instance(tmpl, 900000 + st_.next_id, c.now, false);
                if (b.contains("gpu_util")) inst.gpu_util = b["gpu_util"];
                std::string status = b.value("actual_status", std::string("running"));
                if (status != "stopped") {
                    inst.intended = "running";
                    take_gpus(inst, c.now - 3600, 10, 50);
                    if (status != "running") inst.manual["actual_status"] = status;
                }
                ids.push_back(inst.id);
            }
            return Reply::json(200, {{"ids", ids}});
        });
        control_post("/__control/instance/*", [this](Call& c) {
            std::int64_t id = c.wild_int(0, bad("bad instance id"));
            Instance* inst = find(id);
            if (!inst) return Reply::json(404, {{"error", "no such instance"}});
            json b = c.json_body(bad("body is not JSON"));
            if (!b.is_object()) return bad("expected an object of instance fields");
            static const std::set<std::string> status_fields{
                "actual_status", "intended_status", "cur_state", "next_state", "status_msg"};
            for (const auto& [k, v] : b.items()) {
                if (k == "id") continue;
                if (status_fields.contains(k))
                    inst->manual[k] = v;
                else if (k == "gpu_util")
                    inst->gpu_util = v;
                else
                    inst->row[k] = v;
            }
            return Reply::json(200, row(*inst, c.now));
        });
        control_post("/__control/steal", [this](Call& c) {
            auto m = machine_of(c.json_body(bad("body is not JSON")));
            if (!m) return bad("expected {\"id\": INSTANCE} or {\"offer\": ID} or {\"machine_id\": M}");
            st_.stolen.insert(*m);
            return Reply::json(200, {{"ok", true}, {"machine_id", *m}});
        });
        control_post("/__control/release", [this](Call& c) {
            auto m = machine_of(c.json_body(bad("body is not JSON")));
            if (!m) return bad("expected {\"id\": INSTANCE} or {\"offer\": ID} or {\"machine_id\": M}");
            st_.stolen.erase(*m);
            hand_over(*m, c.now);
            return Reply::json(200, {{"ok", true}, {"machine_id", *m}});
        });
        control_post("/__control/pace", [this](Call& c) {
            json b = c.json_body(bad("body is not JSON"));
            if (!b.is_object() || !b.contains("enabled") || !b["enabled"].is_boolean())
                return bad("expected {\"enabled\": bool, \"thresholds\": {ROUTE: SECONDS}}");
            st_.pace = b["enabled"];
            if (b.contains("thresholds"))
                for (const auto& [route, s] : b["thresholds"].items()) st_.thresholds[route] = s;
            st_.last_call.clear();
            return Reply::json(200, {{"ok", true}});
        });
    }
};

} // namespace

int main(int argc, char** argv) {
    auto opts = gpuctl::fake::parse_args(argc, argv, "fake_vast");
    FakeServer srv("fake_vast");
    FakeVast vast(srv);
    return srv.run(opts);
}
