// SPDX-License-Identifier: MIT
// fake_dask: a fake of the Dask scheduler's HTTP API as gpuctl uses it
// (../shared/specs/dask-http.md §2, §7): /health, /api/v1, get_workers, adaptive_target,
// retire_workers, /json/counts.json, /json/identity.json and /metrics over a scripted cluster
// state, with switches for the API being off, prometheus_client missing, a 500 from
// retire_workers after it retired (the newer-version bug) and a 500 from identity.json. Recorded
// answers can be pinned verbatim per route (/__control/pin) to replay ../shared/specs/recorded/dask.
// Contract of the control API: README.md here ("fake_dask specifics").

#include "fake_common.hpp"

#include <algorithm>
#include <set>

namespace {

using gpuctl::fake::Call;
using gpuctl::fake::FakeServer;
using gpuctl::fake::HttpError;
using gpuctl::fake::Reply;
using nlohmann::json;

/// tornado's error pages (spec §1.4, §2): text/html; charset=UTF-8.
Reply tornado_error(int status) {
    std::string phrase = status == 404   ? "Not Found"
                         : status == 405 ? "Method Not Allowed"
                         : status == 500 ? "Internal Server Error"
                                         : "Error";
    std::string code = std::to_string(status);
    return Reply{status, "text/html; charset=UTF-8",
                 "<html><title>" + code + ": " + phrase + "</title><body>" + code + ": " + phrase +
                     "</body></html>",
                 {}};
}

/// The API handlers' 500 (spec §2.1).
Reply api_500() { return Reply::json(500, {{"Error", "Internal Server Error"}}); }

/// One worker of the scripted cluster.
struct Worker {
    json name;                 ///< string, or a number for integer-looking names (spec §2.3)
    std::string address;       ///< contact address, "tcp://HOST:PORT"
    json resources = json::object();
    json task_counts = json::object(); ///< metrics.task_counts; missing keys are 0
    bool only_copy = false;    ///< holds the only copy of some result: retire refuses it (§2.5)
};

class FakeDask {
public:
    explicit FakeDask(FakeServer& srv) : srv_(srv) {
        srv_.set_default_error([](int status) { return tornado_error(status); });
        srv_.on_reset([this] { reset(); });
        srv_.on_state([this](std::int64_t) { return state(); });
        add_routes();
        add_controls();
    }

private:
    void reset() {
        api_ = true;
        prometheus_ = true;
        retire_500_ = false;
        identity_500_ = false;
        target_ = 0;
        counts_ = json::object();
        workers_.clear();
        retired_.clear();
        pins_.clear();
    }

    json state() const {
        json ws = json::array();
        for (const auto& w : workers_) ws.push_back(worker_json(w));
        return {{"api", api_},       {"prometheus", prometheus_}, {"retire_500", retire_500_},
                {"identity_500", identity_500_}, {"adaptive_target", target_},
                {"counts", counts_}, {"workers", ws},         {"retired", retired_}};
    }

    static json worker_json(const Worker& w) {
        return {{"name", w.name},           {"address", w.address}, {"resources", w.resources},
                {"task_counts", w.task_counts}, {"only_copy", w.only_copy}};
    }

    static Worker worker_from(const json& j) {
        Worker w;
        w.name = j.at("name");
        w.address = j.at("address").get<std::string>();
        w.resources = j.value("resources", json::object());
        w.task_counts = j.value("task_counts", json::object());
        w.only_copy = j.value("only_copy", false);
        return w;
    }

    bool idle(const Worker& w) const {
        for (const auto& [k, v] : w.task_counts.items())
            if (k != "memory" && v.is_number() && v.get<double>() != 0) return false;
        return true;
    }

    /// A pinned answer for this request, when one was set.
    std::optional<Reply> pinned(const Call& c) const {
        auto it = pins_.find(c.req.method + " " + c.path);
        if (it == pins_.end()) return std::nullopt;
        return it->second;
    }

    void require_api(const Call& c) const {
        (void)c;
        if (!api_) throw HttpError{tornado_error(404)};
    }

    json identity_of(const Worker& w) const {
        json counts = {{"executing", 0}, {"long-running", 0}, {"memory", 0}, {"ready", 0},
                       {"constrained", 0}, {"waiting", 0}, {"fetch", 0}, {"missing", 0},
                       {"flight", 0}, {"other", 0}};
        for (const auto& [k, v] : w.task_counts.items()) counts[k] = v;
        std::string host = w.address.substr(w.address.find("://") + 3);
        host = host.substr(0, host.rfind(':'));
        return {{"type", "Worker"},
                {"id", w.name.is_string() ? w.name.get<std::string>() : w.name.dump()},
                {"host", host},
                {"resources", w.resources},
                {"local_directory", "LOCALDIR/dask-worker-space/worker-fake"},
                {"name", w.name},
                {"nthreads", 1},
                {"memory_limit", 12638013440LL},
                {"last_seen", 1796037800.5},
                {"services", {{"dashboard", 32907}}},
                {"metrics", {{"task_counts", counts}, {"managed_bytes", 0}}},
                {"status", "running"},
                {"nanny", nullptr}};
    }

    json counts() const {
        int idle_n = 0;
        for (const auto& w : workers_) idle_n += idle(w) ? 1 : 0;
        json c = {{"bytes", 0},      {"clients", 1},       {"cores", workers_.size()},
                  {"erred", 0},      {"hosts", 1},         {"idle", idle_n},
                  {"memory", 0},     {"processing", 0},    {"released", 0},
                  {"saturated", 0},  {"tasks", 0},         {"unrunnable", 0},
                  {"waiting", 0},    {"waiting_data", 0},  {"workers", workers_.size()},
                  {"desired_workers", target_}};
        for (const auto& [k, v] : counts_.items()) c[k] = v;
        return c;
    }

    void add_routes() {
        srv_.route("GET", "/health", [this](Call& c) {
            if (auto p = pinned(c)) return *p;
            return Reply::text(200, "ok");
        });
        srv_.route("GET", "/api/v1", [this](Call& c) {
            if (auto p = pinned(c)) return *p;
            require_api(c);
            return Reply::text(200, "API V1");
        });
        srv_.route("GET", "/api/v1/get_workers", [this](Call& c) {
            if (auto p = pinned(c)) return *p;
            require_api(c);
            json ws = json::array();
            for (const auto& w : workers_) ws.push_back({{"name", w.name}, {"address", w.address}});
            return Reply::json(200, {{"num_workers", workers_.size()}, {"workers", ws}});
        });
        srv_.route("GET", "/api/v1/adaptive_target", [this](Call& c) {
            if (auto p = pinned(c)) return *p;
            require_api(c);
            return Reply::json(200, {{"workers", target_}});
        });
        srv_.route("POST", "/api/v1/retire_workers", [this](Call& c) {
            if (auto p = pinned(c)) return *p;
            require_api(c);
            return retire(c);
        });
        srv_.route("GET", "/json/counts.json", [this](Call& c) {
            if (auto p = pinned(c)) return *p;
            Reply r = Reply::json(200, counts());
            r.content_type = "application/json; charset=UTF-8";
            return r;
        });
        srv_.route("GET", "/json/identity.json", [this](Call& c) {
            if (auto p = pinned(c)) return *p;
            if (identity_500_) return tornado_error(500);
            json ws = json::object();
            for (const auto& w : workers_) ws[w.address] = identity_of(w);
            Reply r = Reply::json(200, {{"type", "Scheduler"},
                                        {"id", "Scheduler-fake"},
                                        {"address", "tcp://127.0.0.1:8786"},
                                        {"services", {{"dashboard", 8787}}},
                                        {"started", 1796037756.9},
                                        {"workers", ws}});
            r.content_type = "application/json; charset=UTF-8";
            return r;
        });
        srv_.route("GET", "/metrics", [this](Call& c) {
            if (auto p = pinned(c)) return *p;
            std::string body = "# HELP python_gc_objects_collected_total Objects collected\n";
            if (prometheus_) {
                json cn = counts();
                body += "dask_scheduler_desired_workers " + std::to_string(target_) + ".0\n";
                body += "dask_scheduler_tasks{state=\"no-worker\"} " +
                        std::to_string(cn.value("unrunnable", 0)) + ".0\n";
                body += "dask_scheduler_tasks{state=\"processing\"} " +
                        std::to_string(cn.value("processing", 0)) + ".0\n";
            }
            return Reply{200, "text/plain; version=0.0.4", body, {}};
        });
    }

    /// Spec §2.5: `n` (truthy) lets the scheduler pick idle workers; otherwise `workers` is
    /// iterated (a string per character, null = the scheduler chooses); only known addresses are
    /// retired, and a worker holding the only copy of a result is refused while no other worker
    /// can take it.
    Reply retire(Call& c) {
        json body = json::parse(c.req.body, nullptr, false);
        if (body.is_discarded()) return api_500();
        std::vector<std::string> asked;
        if (body.is_object() && body.contains("n") && body["n"].is_number() &&
            body["n"].get<double>() != 0) {
            int n = body["n"].get<int>();
            for (const auto& w : workers_)
                if (static_cast<int>(asked.size()) < n && idle(w)) asked.push_back(w.address);
        } else if (body.is_object() && body.contains("workers")) {
            const json& ws = body["workers"];
            if (ws.is_null()) {
                for (const auto& w : workers_)
                    if (asked.empty() && idle(w)) asked.push_back(w.address);
            } else if (ws.is_string()) {
                for (char ch : ws.get<std::string>()) asked.emplace_back(1, ch);
            } else if (ws.is_array()) {
                for (const auto& a : ws)
                    if (a.is_string()) asked.push_back(a.get<std::string>());
            }
        }
        json out = json::object();
        for (const auto& addr : asked) {
            auto it = std::find_if(workers_.begin(), workers_.end(),
                                   [&](const Worker& w) { return w.address == addr; });
            if (it == workers_.end()) continue;
            if (it->only_copy && workers_.size() == 1) continue; // nowhere to move its data
            json id = identity_of(*it);
            id["status"] = "closed";
            out[addr] = id;
            retired_.push_back(addr);
            workers_.erase(it);
        }
        if (retire_500_) return api_500();
        return Reply::json(200, out);
    }

    void add_controls() {
        // {"api", "prometheus", "retire_500", "identity_500", "adaptive_target", "counts",
        //  "workers": [...]} — every key optional; "workers" replaces the list.
        srv_.control("POST", "/__control/cluster", [this](Call& c) {
            json b = c.json_body(Reply::json(400, {{"error", "bad json"}}));
            api_ = b.value("api", api_);
            prometheus_ = b.value("prometheus", prometheus_);
            retire_500_ = b.value("retire_500", retire_500_);
            identity_500_ = b.value("identity_500", identity_500_);
            target_ = b.value("adaptive_target", target_);
            if (b.contains("counts")) counts_ = b["counts"];
            if (b.contains("workers")) {
                workers_.clear();
                for (const auto& w : b["workers"]) workers_.push_back(worker_from(w));
            }
            return Reply::json(200, state());
        });
        // {"name", "address", "resources", "task_counts", "only_copy"}: adds or replaces by name.
        srv_.control("POST", "/__control/worker", [this](Call& c) {
            Worker w = worker_from(c.json_body(Reply::json(400, {{"error", "bad json"}})));
            auto it = std::find_if(workers_.begin(), workers_.end(),
                                   [&](const Worker& x) { return x.name == w.name; });
            if (it != workers_.end()) *it = w;
            else workers_.push_back(w);
            return Reply::json(200, state());
        });
        // {"method", "path", "status", "content_type", "body"}: answer this route verbatim until
        // reset (a recorded exchange).
        srv_.control("POST", "/__control/pin", [this](Call& c) {
            json b = c.json_body(Reply::json(400, {{"error", "bad json"}}));
            Reply r{b.value("status", 200), b.value("content_type", std::string("application/json")),
                    b.value("body", std::string()), {}};
            pins_[b.at("method").get<std::string>() + " " + b.at("path").get<std::string>()] = r;
            return Reply::json(200, {{"pinned", pins_.size()}});
        });
    }

    FakeServer& srv_;
    bool api_ = true;
    bool prometheus_ = true;
    bool retire_500_ = false;
    bool identity_500_ = false;
    int target_ = 0;
    json counts_ = json::object();
    std::vector<Worker> workers_;
    std::vector<std::string> retired_;
    std::map<std::string, Reply> pins_;
};

} // namespace

int main(int argc, char** argv) {
    auto opts = gpuctl::fake::parse_args(argc, argv, "fake_dask");
    FakeServer srv("fake_dask");
    FakeDask dask(srv);
    return srv.run(opts);
}
