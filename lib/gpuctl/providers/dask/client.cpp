// SPDX-License-Identifier: MIT
#include "gpuctl/providers/dask/client.hpp"

#include <fmt/format.h>

namespace gpuctl::providers::dask {

using nlohmann::json;

namespace {

constexpr const char* k_provider = "Dask";

net::Operation
read_op(const std::string& name)
{
  net::Operation op;
  op.provider = k_provider;
  op.name = name;
  op.retry_safe = true;
  return op;
}

std::string
name_text(const json& v)
{
  if (v.is_string()) {
    return v.get<std::string>();
  }
  return v.dump(); // an integer-looking --name comes back as a number (§2.3)
}

int
int_field(const json& j, const char* key)
{
  auto it = j.find(key);
  return it != j.end() && it->is_number() ? it->get<int>() : 0;
}

} // namespace

std::string
enable_api_hint()
{
  return "DASK_DISTRIBUTED__SCHEDULER__HTTP__ROUTES='[\"distributed.http.scheduler.api\","
         "\"distributed.http.scheduler.prometheus\",\"distributed.http.scheduler.info\","
         "\"distributed.http.scheduler.json\",\"distributed.http.health\","
         "\"distributed.http.proxy\",\"distributed.http.statics\"]'";
}

std::string
dask_name(const std::string& worker)
{
  return "gpuctl-" + worker;
}

Client::Client(net::Caller& caller, std::string base_url)
    : m_caller(caller), m_base(std::move(base_url))
{
  while (!m_base.empty() && m_base.back() == '/') {
    m_base.pop_back();
  }
}

void
Client::unreachable(const net::CallError& e)
{
  throw Unavailable(fmt::format("the Dask scheduler's HTTP API at {} is unreachable ({}); is the "
                                "scheduler running, and is this its --dashboard-address?",
                                m_base, e.what()),
                    false);
}

void
Client::api_missing(const std::string& path)
{
  net::Request req;
  req.url = m_base + "/health";
  net::Response r;
  try {
    auto op = read_op("health");
    op.expect_json = false;
    r = m_caller.call(op, req, {});
  } catch (const net::CallError& e) {
    unreachable(e);
  }
  if (r.status == 200) {
    throw Unavailable(fmt::format("the Dask scheduler at {} answers, but its HTTP API is off ({} "
                                  "is 404): start the scheduler with {} (see examples/dask/)",
                                  m_base, path, enable_api_hint()),
                      true);
  }
  throw Unavailable(fmt::format("{}{} is 404 and /health is {}: is {} a Dask scheduler's HTTP "
                                "address (with its --dashboard-prefix)?",
                                m_base, path, r.status, m_base),
                    false);
}

json
Client::get_json(const std::string& path, const std::string& what)
{
  net::Request req;
  req.url = m_base + path;
  net::Response r;
  try {
    r = m_caller.call(read_op(what), req, {});
  } catch (const net::CallError& e) {
    if (e.status() == 0) {
      unreachable(e);
    }
    throw;
  }
  if (r.status == 404 && path.rfind("/api/v1", 0) == 0) {
    api_missing(path);
  }
  if (r.status < 200 || r.status > 299) {
    throw Error(ErrorKind::provider,
                fmt::format("Dask {} answered HTTP {} ({})", what, r.status, m_base + path));
  }
  return r.json;
}

Workers
Client::get_workers()
{
  json j = get_json("/api/v1/get_workers", "get_workers");
  if (!j.is_object() || !j.contains("workers") || !j["workers"].is_array()) {
    throw Error(ErrorKind::provider, "Dask get_workers: unexpected answer (no \"workers\" list)");
  }
  Workers out;
  for (const auto& w : j["workers"]) {
    if (!w.is_object() || !w.contains("address") || !w["address"].is_string()) {
      continue;
    }
    out.workers.push_back({name_text(w.value("name", json(""))), w["address"].get<std::string>()});
  }
  out.num_workers = j.contains("num_workers") && j["num_workers"].is_number()
                        ? j["num_workers"].get<int>()
                        : static_cast<int>(out.workers.size());
  return out;
}

int
Client::adaptive_target()
{
  json j = get_json("/api/v1/adaptive_target", "adaptive_target");
  if (!j.is_object() || !j.contains("workers") || !j["workers"].is_number_integer() ||
      j["workers"].get<long long>() < 0) {
    throw Error(ErrorKind::provider, "Dask adaptive_target: unexpected answer (no \"workers\" count)");
  }
  return static_cast<int>(j["workers"].get<long long>());
}

Counts
Client::counts()
{
  json j = get_json("/json/counts.json", "counts");
  if (!j.is_object()) {
    throw Error(ErrorKind::provider, "Dask /json/counts.json: unexpected answer (not an object)");
  }
  Counts c;
  c.unrunnable = int_field(j, "unrunnable");
  c.processing = int_field(j, "processing");
  c.tasks = int_field(j, "tasks");
  c.workers = int_field(j, "workers");
  return c;
}

std::optional<std::map<std::string, Activity>>
Client::activity()
{
  net::Request req;
  req.url = m_base + "/json/identity.json";
  net::Response r;
  auto op = read_op("identity");
  op.retry_safe = false; // its 500 is an answer (§6), not a fault to wait out
  try {
    r = m_caller.call(op, req, {});
  } catch (const net::CallError& e) {
    if (e.status() == 0) {
      unreachable(e);
    }
    if (e.status() >= 500) {
      return std::nullopt; // §6: newer versions may answer 500 while tasks run
    }
    throw;
  }
  if (r.status >= 500) {
    return std::nullopt;
  }
  if (r.status != 200 || !r.json.is_object() || !r.json.contains("workers") ||
      !r.json["workers"].is_object()) {
    throw Error(ErrorKind::provider,
                fmt::format("Dask /json/identity.json answered HTTP {} without a workers object",
                            r.status));
  }
  std::map<std::string, Activity> out;
  for (const auto& [address, id] : r.json["workers"].items()) {
    Activity a;
    a.name = name_text(id.value("name", json("")));
    a.idle = true;
    if (id.contains("metrics") && id["metrics"].is_object() &&
        id["metrics"].contains("task_counts") && id["metrics"]["task_counts"].is_object()) {
      for (const auto& [k, v] : id["metrics"]["task_counts"].items()) {
        if (k != "memory" && v.is_number() && v.get<double>() != 0) {
          a.idle = false;
        }
      }
      a.executing = int_field(id["metrics"]["task_counts"], "executing");
    } else {
      a.idle = false; // no task counts: nothing says it is idle
    }
    if (id.contains("resources") && id["resources"].is_object()) {
      for (const auto& [k, v] : id["resources"].items()) {
        if (v.is_number()) {
          a.resources[k] = v.get<double>();
        }
      }
    }
    out[address] = a;
  }
  return out;
}

std::set<std::string>
Client::retire(const std::vector<std::string>& addresses)
{
  if (addresses.empty()) {
    // An empty list retires nothing, and null would let the scheduler choose (§2.5): never sent.
    throw_usage("retire_workers needs at least one address");
  }
  net::Request req;
  req.method = "POST";
  req.url = m_base + "/api/v1/retire_workers";
  req.headers = {{"Content-Type", "application/json"}};
  req.body = json{{"workers", addresses}}.dump();
  req.has_body = true;
  net::Operation op;
  op.provider = k_provider;
  op.name = "retire_workers";
  op.retry_safe = false; // a second attempt answers {} for what the first retired
  net::Response r;
  try {
    r = m_caller.call(op, req, {});
  } catch (const net::CallError& e) {
    if (e.status() == 0 && !e.maybe_delivered()) {
      unreachable(e);
    }
    throw net::CallError(fmt::format("Dask retire_workers failed ({}): the outcome is unknown; "
                                     "get_workers is read again next tick",
                                     e.what()),
                         e.status(), true);
  }
  if (r.status == 404) {
    api_missing("/api/v1/retire_workers");
  }
  if (r.status >= 500) {
    throw net::CallError(fmt::format("Dask retire_workers answered HTTP {}: the outcome is "
                                     "unknown; get_workers is read again next tick",
                                     r.status),
                         r.status, true);
  }
  if (r.status != 200 || !r.json.is_object()) {
    throw Error(ErrorKind::provider,
                fmt::format("Dask retire_workers answered HTTP {} without a JSON object", r.status));
  }
  std::set<std::string> out;
  for (const auto& [address, identity] : r.json.items()) {
    (void)identity;
    out.insert(address);
  }
  return out;
}

} // namespace gpuctl::providers::dask
