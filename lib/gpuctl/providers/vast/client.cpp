// SPDX-License-Identifier: MIT
#include "gpuctl/providers/vast/client.hpp"

#include "gpuctl/core/error.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <sstream>

namespace gpuctl::providers::vast {

using nlohmann::json;

namespace {

constexpr const char* k_provider = "vast.ai";

/// FNV-1a: a stable id for a key in the pacing table that does not reveal the key.
std::string
key_id(const std::string& key)
{
  std::uint64_t h = 14695981039346656037ULL;
  for (unsigned char c : key) {
    h = (h ^ c) * 1099511628211ULL;
  }
  return fmt::format("{:016x}", h);
}

std::optional<double>
num(const json& row, const char* field)
{
  auto it = row.find(field);
  if (it == row.end() || !it->is_number()) {
    return std::nullopt;
  }
  return it->get<double>();
}

std::string
str(const json& row, const char* field)
{
  auto it = row.find(field);
  return it != row.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::string
message_of(const json& body, const std::string& raw)
{
  if (body.is_object()) {
    for (const char* f : {"msg", "message", "detail", "error"}) {
      auto it = body.find(f);
      if (it != body.end() && it->is_string() && !it->get<std::string>().empty()) {
        return it->get<std::string>();
      }
    }
  }
  std::string text = raw.substr(0, 200);
  std::replace_if(text.begin(), text.end(), [](char c) { return c == '\n' || c == '\r'; }, ' ');
  return text;
}

/// The API's sort column for a word of --order.
std::string
order_column(const std::string& word)
{
  static const std::map<std::string, std::string> columns = {
      {"price", "dph_total"},    {"reliability", "reliability"}, {"score", "score"},
      {"gpu_ram", "gpu_ram"},    {"inet_down", "inet_down"},     {"num_gpus", "num_gpus"},
      {"dlperf", "dlperf"},      {"cuda", "cuda_max_good"},
  };
  auto it = columns.find(word);
  if (it == columns.end()) {
    throw_usage("--order: unknown sort key '{}' (price, reliability, score, gpu_ram, inet_down, "
                "num_gpus, dlperf, cuda; '-' in front sorts descending)",
                word);
  }
  return it->second;
}

/// Whether a 400/404 body is vast.ai's own "no such instance" answer (§5, §7, §9.1): a JSON
/// error that is not an auth failure. A proxy's or portal's HTML 404 is not evidence that an
/// instance is gone.
bool
vast_gone(const std::string& raw)
{
  json b = json::parse(raw, nullptr, false);
  if (!b.is_object() || (!b.contains("error") && !b.contains("msg") && !b.contains("success"))) {
    return false;
  }
  auto text = [&](const char* k) {
    auto it = b.find(k);
    return it != b.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  return text("error") != "auth_error" && text("msg") != "Invalid user key";
}

} // namespace

std::string
instance_label(std::int64_t worker_id, int generation)
{
  return fmt::format("gpuctl:{}:{}", worker_id, generation);
}

bool
scheduling(const Instance& i)
{
  const std::string actual = i.actual_status.value_or("");
  return i.intended_status == "running" && i.cur_state != "running" &&
         (actual == "stopped" || actual == "exited" || actual == "created" || actual.empty()) &&
         i.actual_status.has_value();
}

std::string
worker_state(const Instance& i)
{
  if (!i.actual_status) {
    return "starting";
  }
  const std::string& a = *i.actual_status;
  if (a == "running") {
    return "online";
  }
  if (a == "created" || a == "loading" || a == "rebooting" || a == "restarting" || scheduling(i)) {
    return "starting";
  }
  return "offline";
}

Client::Client(net::Caller& caller, std::string base_url, std::string api_key, net::Millis pace)
    : m_caller(caller), m_base(std::move(base_url)), m_key(std::move(api_key)),
      m_key_id(key_id(m_key)), m_pace(pace)
{
}

json
Client::expect_ok_sent(const net::Operation& o, net::Response r)
{
  return expect_ok(o, r);
}

net::Operation
Client::op(const std::string& name, bool retry_safe, const std::string& endpoint,
           double threshold_s) const
{
  net::Operation o;
  o.provider = k_provider;
  o.name = name;
  o.retry_safe = retry_safe;
  o.backoff_base_s = std::max(1.0, threshold_s);
  if (m_pace.count() > 0) {
    o.pace_endpoint = endpoint;
    o.pace_gap = std::max(m_pace, net::Millis(static_cast<long long>(threshold_s * 1000)));
  }
  return o;
}

net::Response
Client::send(const net::Operation& o, const std::string& method, const std::string& target,
             const std::optional<json>& body)
{
  net::Request req;
  req.method = method;
  req.url = m_base + target;
  req.headers = {{"Accept", "application/json"}, {"User-Agent", "gpuctl/" GPUCTL_VERSION}};
  if (!m_key.empty()) {
    req.headers.emplace_back("Authorization", "Bearer " + m_key);
  }
  if (body) {
    req.headers.emplace_back("Content-Type", "application/json");
    req.body = body->dump();
    req.has_body = true;
  }
  return m_caller.call(o, req, {m_key}, m_key_id);
}

json
Client::expect_ok(const net::Operation& o, net::Response& r)
{
  json body = !r.json.is_null() ? std::move(r.json) : json::parse(r.body, nullptr, false);
  const std::string msg = net::redact(message_of(body, r.body), {m_key});
  const bool auth = r.status == 401 || r.status == 403 ||
                    (r.status == 404 && body.is_object() &&
                     (body.value("error", "") == "auth_error" || msg == "Invalid user key"));
  if (auth) {
    throw Error(ErrorKind::provider,
                fmt::format("vast.ai {}: the API key was refused (HTTP {}: {}); check VAST_API_KEY "
                            "or the account's --credentials file",
                            o.name, r.status, msg));
  }
  if (r.status < 200 || r.status >= 300) {
    throw Error(ErrorKind::provider, fmt::format("vast.ai {}: HTTP {}: {}", o.name, r.status, msg));
  }
  if (body.is_object() && body.contains("success") && body["success"] == false) {
    throw Error(ErrorKind::provider, fmt::format("vast.ai {}: refused: {}", o.name, msg));
  }
  return body;
}

std::vector<Offer>
Client::search_offers(const OfferQuery& q)
{
  json f = {{"rentable", {{"eq", true}}}};
  if (q.defaults) {
    f = {{"verified", {{"eq", true}}}, {"external", {{"eq", false}}}, {"rentable", {{"eq", true}}}};
  }
  if (q.gpu) {
    std::string g = *q.gpu;
    std::replace(g.begin(), g.end(), '_', ' ');
    f["gpu_name"] = {{"eq", g}};
  }
  if (q.num_gpus) {
    f["num_gpus"] = {{"eq", *q.num_gpus}};
  }
  if (q.max_price) {
    f["dph_total"] = {{"lte", *q.max_price}};
  }
  if (!q.regions.empty()) {
    f["geolocation"] = {{"in", q.regions}};
  }
  if (q.min_reliability) {
    f["reliability"] = {{"gte", *q.min_reliability}};
  }
  if (q.id) {
    f["id"] = {{"eq", *q.id}};
  }
  json order = json::array();
  std::stringstream words(q.order);
  for (std::string w; std::getline(words, w, ',');) {
    bool desc = !w.empty() && w[0] == '-';
    order.push_back({order_column(desc ? w.substr(1) : w), desc ? "desc" : "asc"});
  }
  f["order"] = order;
  f["type"] = "on-demand";
  f["limit"] = q.limit;
  f["allocated_storage"] = q.disk_gb;
  auto o = op("search offers", true, "POST /api/v0/bundles/", 6.0);
  json body = expect_ok_sent(o, send(o, "POST", "/api/v0/bundles/", f));
  if (!body.is_object() || !body.contains("offers") || !body["offers"].is_array()) {
    throw Error(ErrorKind::provider, "vast.ai search offers: the answer has no \"offers\" list");
  }
  std::vector<Offer> out;
  for (const auto& row : body["offers"]) {
    if (!row.is_object() || !row.contains("id") || !row["id"].is_number_integer()) {
      continue;
    }
    Offer of;
    of.id = row["id"].get<std::int64_t>();
    of.gpu = str(row, "gpu_name");
    of.num_gpus = static_cast<int>(num(row, "num_gpus").value_or(0));
    if (auto ram = num(row, "gpu_ram")) {
      of.gpu_ram_gb = *ram / 1000.0;
    }
    of.price_usd_per_hour = num(row, "dph_total");
    of.reliability = num(row, "reliability");
    of.region = str(row, "geolocation");
    of.disk_gb = num(row, "disk_space");
    of.inet_down_mbps = num(row, "inet_down");
    of.cuda = num(row, "cuda_max_good");
    out.push_back(std::move(of));
  }
  return out;
}

std::int64_t
Client::create_instance(std::int64_t offer_id, const InstanceSpec& spec)
{
  json env = json::object();
  for (const auto& [k, v] : spec.env) {
    env[k] = v;
  }
  // The official CLI's body (§3.1), with cancel_unavail true so an offer that cannot start
  // now is a 410, not a silently stopped, storage-billed instance (§3.4).
  json body = {{"client_id", "me"},
               {"image", spec.image},
               {"env", env},
               {"price", nullptr},
               {"disk", spec.disk_gb},
               {"label", spec.label},
               {"extra", nullptr},
               {"onstart", spec.onstart.empty() ? json(nullptr) : json(spec.onstart)},
               {"image_login", nullptr},
               {"python_utf8", false},
               {"lang_utf8", false},
               {"use_jupyter_lab", false},
               {"jupyter_dir", nullptr},
               {"force", false},
               {"cancel_unavail", true},
               {"template_hash_id", nullptr},
               {"user", nullptr},
               {"runtype", "ssh_direc ssh_proxy"}};
  auto o = op("create instance", false, "PUT /api/v0/asks/", 4.5);
  auto r = send(o, "PUT", fmt::format("/api/v0/asks/{}/", offer_id), body);
  if (r.status == 404 || r.status == 410) {
    json b = json::parse(r.body, nullptr, false);
    if (!(b.is_object() && b.value("error", "") == "auth_error")) {
      throw_conflict("vast.ai offer {} is no longer available ({}); search again", offer_id,
                     net::redact(message_of(b, r.body), {m_key}));
    }
  }
  json answer = expect_ok(o, r);
  if (!answer.contains("new_contract") || !answer["new_contract"].is_number_integer()) {
    throw Error(ErrorKind::provider, "vast.ai create instance: the answer has no new_contract id");
  }
  return answer["new_contract"].get<std::int64_t>();
}

Instance
Client::parse_instance(const json& row)
{
  Instance i;
  i.id = row.at("id").get<std::int64_t>();
  if (auto it = row.find("actual_status"); it != row.end() && it->is_string()) {
    i.actual_status = it->get<std::string>();
  }
  i.intended_status = str(row, "intended_status");
  i.cur_state = str(row, "cur_state");
  i.label = str(row, "label");
  i.gpu = str(row, "gpu_name");
  i.num_gpus = static_cast<int>(num(row, "num_gpus").value_or(0));
  i.gpu_util = num(row, "gpu_util");
  if (i.gpu_util && *i.gpu_util < 0) {
    i.gpu_util.reset();
  }
  i.price_usd_per_hour = num(row, "dph_total");
  i.storage_usd_per_hour = num(row, "storage_total_cost");
  i.region = str(row, "geolocation");
  i.image = str(row, "image_uuid");
  i.disk_gb = num(row, "disk_space");
  i.onstart = str(row, "onstart");
  i.ssh_host = str(row, "ssh_host");
  i.ssh_port = static_cast<int>(num(row, "ssh_port").value_or(0));
  return i;
}

std::optional<std::string>
Instance::ssh_address() const
{
  if (ssh_host.empty() || ssh_port <= 0 || ssh_port > 65535) {
    return std::nullopt;
  }
  bool v6 = ssh_host.find(':') != std::string::npos;
  return fmt::format("root@{}{}{}:{}", v6 ? "[" : "", ssh_host, v6 ? "]" : "", ssh_port);
}

Listing
Client::list_instances(const json& filters)
{
  auto o = op("list instances", true, "GET /api/v1/instances/", 1.0);
  // Only the columns parse_instance reads: a full row has ~100 (§4.2 select_cols).
  static const std::string cols = net::url_encode(
      R"(["id","actual_status","intended_status","cur_state","label","gpu_name","num_gpus",)"
      R"("gpu_util","dph_total","storage_total_cost","geolocation","image_uuid","disk_space",)"
      R"("onstart","ssh_host","ssh_port"])");
  const std::string base =
      "/api/v1/instances/?select_filters=" + net::url_encode(filters.dump()) +
      "&order_by=" + net::url_encode(R"([{"col":"id","dir":"asc"}])") + "&limit=25" +
      "&select_cols=" + cols;
  Listing out;
  std::string token;
  for (;;) {
    std::string target = base;
    if (!token.empty()) {
      target += "&after_token=" + net::url_encode(token);
    }
    json page = expect_ok_sent(o, send(o, "GET", target, std::nullopt));
    ++out.pages;
    if (!page.is_object() || !page.contains("instances") || !page["instances"].is_array()) {
      throw Error(ErrorKind::provider,
                  fmt::format("vast.ai list instances: page {} has no \"instances\" list", out.pages));
    }
    for (const auto& row : page["instances"]) {
      if (!row.is_object() || !row.contains("id") || !row["id"].is_number_integer()) {
        throw Error(ErrorKind::provider,
                    fmt::format("vast.ai list instances: page {} has a row without an id", out.pages));
      }
      out.instances.push_back(parse_instance(row));
    }
    auto next = page.find("next_token");
    if (next == page.end() || !next->is_string() || next->get<std::string>().empty()) {
      return out;
    }
    token = next->get<std::string>();
  }
}

std::optional<Instance>
Client::show_instance(std::int64_t id)
{
  auto o = op("show instance", true, "GET /api/v0/instances/ID/", 2.0);
  auto r = send(o, "GET", fmt::format("/api/v0/instances/{}/?owner=me", id), std::nullopt);
  if ((r.status == 400 || r.status == 404) && vast_gone(r.body)) {
    return std::nullopt;
  }
  json body = expect_ok(o, r);
  auto it = body.find("instances");
  if (it == body.end() || it->is_null()) {
    return std::nullopt;
  }
  if (!it->is_object() || !it->contains("id")) {
    throw Error(ErrorKind::provider, "vast.ai show instance: unexpected answer");
  }
  return parse_instance(*it);
}

void
Client::set_state(std::int64_t id, bool running)
{
  auto o = op(running ? "start instance" : "stop instance", true, "PUT /api/v0/instances/ID/", 1.0);
  expect_ok_sent(o, send(o, "PUT", fmt::format("/api/v0/instances/{}/", id),
                    json{{"state", running ? "running" : "stopped"}}));
}

void
Client::destroy_instance(std::int64_t id)
{
  auto o = op("destroy instance", true, "DELETE /api/v0/instances/ID/", 3.0);
  auto r = send(o, "DELETE", fmt::format("/api/v0/instances/{}/", id), json::object());
  if (r.status == 404 && vast_gone(r.body)) {
    return; // already gone
  }
  expect_ok(o, r);
}

void
Client::set_label(std::int64_t id, const std::string& label)
{
  auto o = op("label instance", true, "PUT /api/v0/instances/ID/", 1.0);
  expect_ok_sent(o, send(o, "PUT", fmt::format("/api/v0/instances/{}/", id), json{{"label", label}}));
}

} // namespace gpuctl::providers::vast
