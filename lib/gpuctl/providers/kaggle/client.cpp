// SPDX-License-Identifier: MIT
#include "gpuctl/providers/kaggle/client.hpp"

#include "gpuctl/core/error.hpp"
#include "gpuctl/core/time.hpp"

#include <fmt/format.h>

#include <cctype>
#include <cmath>
#include <set>
#include <filesystem>
#include <fstream>

namespace gpuctl::providers::kaggle {

using nlohmann::json;
namespace fs = std::filesystem;

namespace {

constexpr const char* k_provider = "Kaggle";

std::string
message_of(const json& body, const std::string& raw)
{
  if (body.is_object()) {
    if (auto e = body.find("error"); e != body.end() && e->is_object()) {
      if (auto m = e->find("message"); m != e->end() && m->is_string()) {
        return m->get<std::string>();
      }
    }
    if (auto m = body.find("message"); m != body.end() && m->is_string()) {
      return m->get<std::string>();
    }
  }
  std::string text = raw.substr(0, 200);
  for (auto& c : text) {
    if (c == '\n' || c == '\r') {
      c = ' ';
    }
  }
  return text.empty() ? "no details" : text;
}

std::string
str(const json& o, const char* k)
{
  auto it = o.find(k);
  return it != o.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::optional<AcceleratorQuota>
accelerator(const json& o, const char* k)
{
  auto it = o.find(k);
  if (it == o.end() || !it->is_object()) {
    return std::nullopt;
  }
  AcceleratorQuota q;
  q.used_s = parse_duration(it->value("timeUsed", json())).value_or(0);
  q.reserved_s = parse_duration(it->value("timeReserved", json())).value_or(0);
  q.total_s = parse_duration(it->value("totalTimeAllowed", json())).value_or(0);
  return q;
}

} // namespace

bool
KernelStatus::terminal() const
{
  return status == "COMPLETE" || status == "ERROR" || status == "CANCEL_ACKNOWLEDGED";
}

std::optional<double>
parse_duration(const json& v)
{
  if (!v.is_string()) {
    return std::nullopt;
  }
  std::string s = v.get<std::string>();
  if (s.size() < 2 || s.back() != 's') {
    return std::nullopt;
  }
  s.pop_back();
  // Digits with an optional fraction only: strtod alone would take "nan", "inf", " 5", "0x10".
  if (s.empty() || !std::isdigit(static_cast<unsigned char>(s[0])) ||
      s.find_first_not_of("0123456789.") != std::string::npos) {
    return std::nullopt;
  }
  char* end = nullptr;
  double d = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size() || !std::isfinite(d)) {
    return std::nullopt;
  }
  return d;
}

std::string
normalise_enum(const std::string& s)
{
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (std::isupper(c) && i > 0 && std::islower(static_cast<unsigned char>(s[i - 1]))) {
      out += '_';
    }
    out += static_cast<char>(std::toupper(c));
  }
  return out;
}

Client::Client(net::Caller& caller, std::string base_url, Auth auth)
    : m_caller(caller), m_base(std::move(base_url)), m_auth(std::move(auth))
{
}

net::Response
Client::post(const net::Operation& op, const std::string& service_method, const json& body)
{
  net::Request req;
  req.method = "POST";
  req.url = m_base + "/v1/" + service_method;
  req.headers = {{"Accept", "application/json"},
                 {"Content-Type", "application/json"},
                 {"User-Agent", "gpuctl/" GPUCTL_VERSION}};
  if (m_auth.kind == Auth::Kind::token) {
    req.headers.emplace_back("Authorization", "Bearer " + m_auth.secret);
  } else {
    req.basic_auth = {m_auth.username, m_auth.secret};
  }
  req.body = body.dump();
  req.has_body = true;
  return m_caller.call(op, req, {m_auth.secret});
}

json
Client::parse_ok(const net::Operation& op, const net::Response& r)
{
  json body = !r.json.is_null() ? r.json : json::parse(r.body, nullptr, false);
  // §9.1: a JSON body with a numeric top-level code ≥ 400 is an error whatever the status.
  int code = r.status;
  if (body.is_object() && body.contains("code") && body["code"].is_number_integer() &&
      body["code"].get<int>() >= 400) {
    code = body["code"].get<int>();
  }
  if (code >= 200 && code < 300) {
    return body;
  }
  std::string msg = net::redact(message_of(body, r.body), {m_auth.secret});
  if (code == 401) {
    throw Error(ErrorKind::provider,
                fmt::format("Kaggle {}: the credentials were refused (HTTP 401: {}); check the "
                            "account's --credentials file or KAGGLE_API_TOKEN / KAGGLE_KEY",
                            op.name, msg));
  }
  if (code == 404) {
    throw NotFound(fmt::format("Kaggle {}: HTTP 404: {}", op.name, msg));
  }
  throw Error(ErrorKind::provider, fmt::format("Kaggle {}: HTTP {}: {}", op.name, code, msg));
}

json
Client::rpc(const std::string& service_method, const json& body, bool retry_safe)
{
  net::Operation op;
  op.provider = k_provider;
  op.name = service_method.substr(service_method.find('/') + 1);
  op.retry_safe = retry_safe;
  return parse_ok(op, post(op, service_method, body));
}

std::pair<bool, std::string>
Client::introspect()
{
  if (m_auth.kind != Auth::Kind::token) {
    return {false, ""}; // a legacy key is not a token: never send it to IntrospectToken
  }
  json r = rpc("security.OAuthService/IntrospectToken", {{"token", m_auth.secret}}, true);
  return {r.value("active", false), str(r, "username")};
}

PushResult
Client::push(const PushRequest& p)
{
  json body = {{"slug", p.owner + "/" + p.slug}};
  if (!p.title.empty()) {
    body["newTitle"] = p.title;
  }
  body["text"] = p.text;
  body["language"] = p.language;
  body["kernelType"] = p.kernel_type;
  if (!p.dataset_sources.empty()) {
    body["datasetDataSources"] = p.dataset_sources;
  }
  body["isPrivate"] = p.is_private;
  body["enableGpu"] = p.enable_gpu;
  body["enableInternet"] = p.enable_internet;
  body["enableTpu"] = false;
  if (p.session_timeout_s > 0) {
    body["sessionTimeoutSeconds"] = p.session_timeout_s;
  }
  body["machineShape"] = p.machine_shape;
  json r = rpc("kernels.KernelsApiService/SaveKernel", body, false);
  std::string error = str(r, "error");
  if (!error.empty()) {
    bool slot = error.find("Maximum batch GPU session count") != std::string::npos;
    throw PushRefused(fmt::format("Kaggle SaveKernel: push of {}/{} refused: {}", p.owner, p.slug,
                                  net::redact(error, {m_auth.secret})),
                      slot);
  }
  PushResult out;
  out.ref = str(r, "ref");
  out.url = str(r, "url");
  out.version = r.value("versionNumber", std::int64_t{0});
  out.kernel_id = r.value("kernelId", std::int64_t{0});
  for (const char* k : {"invalidTags", "invalidDatasetSources", "invalidCompetitionSources",
                        "invalidKernelSources", "invalidModelSources"}) {
    if (auto it = r.find(k); it != r.end() && it->is_array()) {
      for (const auto& v : *it) {
        if (v.is_string()) {
          out.dropped_sources.push_back(v.get<std::string>());
        }
      }
    }
  }
  return out;
}

KernelStatus
Client::kernel_status(const std::string& owner, const std::string& slug)
{
  json r = rpc("kernels.KernelsApiService/GetKernelSessionStatus",
               {{"userName", owner}, {"kernelSlug", slug}}, true);
  KernelStatus s;
  s.status = r.contains("status") && r["status"].is_string()
                 ? normalise_enum(r["status"].get<std::string>())
                 : "QUEUED"; // the enum's default when absent (§4)
  s.failure_message = str(r, "failureMessage");
  return s;
}

Output
Client::output(const std::string& owner, const std::string& slug)
{
  Output out;
  std::string token;
  std::set<std::string> seen;
  for (int page = 0;; ++page) {
    json body = {{"userName", owner}, {"kernelSlug", slug}, {"pageSize", 100}};
    if (!token.empty()) {
      body["pageToken"] = token;
    }
    json r = rpc("kernels.KernelsApiService/ListKernelSessionOutput", body, true);
    if (page == 0) {
      out.log = str(r, "log");
    }
    if (auto it = r.find("files"); it != r.end() && it->is_array()) {
      for (const auto& f : *it) {
        out.files.push_back({str(f, "url"), str(f, "fileName")});
      }
    }
    token = str(r, "nextPageToken");
    if (token.empty()) {
      return out;
    }
    if (!seen.insert(token).second || page >= 1000) {
      throw Error(ErrorKind::provider,
                  fmt::format("Kaggle ListKernelSessionOutput: the server repeated page token "
                              "'{}' (or sent over 1000 pages); giving up",
                              token));
    }
  }
}

void
Client::download(const OutputFile& f, const std::string& dest_dir)
{
  fs::path name(f.file_name);
  bool unsafe = f.file_name.empty() || name.is_absolute();
  for (const auto& part : name) {
    unsafe = unsafe || part == "..";
  }
  if (unsafe) {
    throw Error(ErrorKind::provider,
                fmt::format("Kaggle output: refusing the file name '{}' (absolute or with ..)",
                            f.file_name));
  }
  net::Operation op;
  op.provider = k_provider;
  op.name = "download " + f.file_name;
  op.expect_json = false;
  net::Request req; // a signed URL: no Kaggle credentials go to its host (§1.3, §5.3)
  req.url = f.url;
  auto r = m_caller.call(op, req, {m_auth.secret});
  if (r.status != 200) {
    throw Error(ErrorKind::provider,
                fmt::format("Kaggle download {}: HTTP {} (a signed URL may have expired; list "
                            "the output again)",
                            f.file_name, r.status));
  }
  fs::path dest = fs::path(dest_dir) / name;
  fs::create_directories(dest.parent_path());
  std::ofstream out(dest, std::ios::binary | std::ios::trunc);
  out << r.body;
  if (!out) {
    throw Error(ErrorKind::failure, fmt::format("cannot write {}", dest.string()));
  }
}

std::vector<KernelInfo>
Client::list_kernels(int page_size)
{
  json r = rpc("kernels.KernelsApiService/ListKernels",
               {{"group", "PROFILE"}, {"sortBy", "DATE_RUN"}, {"page", 1}, {"pageSize", page_size}},
               true);
  std::vector<KernelInfo> out;
  if (auto it = r.find("kernels"); it != r.end() && it->is_array()) {
    for (const auto& k : *it) {
      KernelInfo i;
      i.ref = str(k, "ref");
      i.title = str(k, "title");
      if (k.contains("lastRunTime") && k["lastRunTime"].is_string()) {
        i.last_run_time = k["lastRunTime"].get<std::string>();
      }
      i.current_version = k.value("currentVersionNumber", std::int64_t{0});
      i.machine_shape = str(k, "machineShape");
      out.push_back(std::move(i));
    }
  }
  return out;
}

Quota
Client::quota()
{
  json r = rpc("kernels.KernelsApiService/GetAcceleratorQuotaStatistics", json::object(), true);
  Quota q;
  if (auto t = str(r, "quotaRefreshTime"); !t.empty()) {
    q.refresh = parse_rfc3339(t);
  }
  q.gpu = accelerator(r, "gpuQuota");
  q.tpu = accelerator(r, "tpuQuota");
  return q;
}

} // namespace gpuctl::providers::kaggle
