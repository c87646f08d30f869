// SPDX-License-Identifier: MIT
#include "gpuctl/sched/job.hpp"

#include "gpuctl/core/error.hpp"
#include "gpuctl/core/names.hpp"
#include "gpuctl/sched/snapshot.hpp"
#include "gpuctl/store/registry.hpp"

#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <set>

namespace gpuctl::sched {

namespace fs = std::filesystem;
using json = nlohmann::json;

json
to_json(const JobSpec& s)
{
  json j = {{"kind", s.kind}, {"argv", s.argv}};
  auto put = [&](const char* k, const std::string& v) {
    if (!v.empty()) {
      j[k] = v;
    }
  };
  put("file", s.file);
  put("file_name", s.file_name);
  put("provider", s.provider);
  put("worker", s.worker);
  put("gpu", s.gpu);
  put("input_dir", s.input_dir);
  put("output_dir", s.output_dir);
  put("accelerator", s.accelerator);
  if (!s.datasets.empty()) {
    j["datasets"] = s.datasets;
  }
  if (s.internet) {
    j["internet"] = true;
  }
  return j;
}

JobSpec
spec_from_json_text(const std::string& text)
{
  json j = json::parse(text, nullptr, false);
  if (!j.is_object()) {
    throw_usage("a job's stored spec is not JSON: {}", text.substr(0, 80));
  }
  JobSpec s;
  try {
    s.kind = j.value("kind", std::string("command"));
    s.argv = j.value("argv", std::vector<std::string>{});
    s.file = j.value("file", std::string());
    s.file_name = j.value("file_name", std::string());
    s.provider = j.value("provider", std::string());
    s.worker = j.value("worker", std::string());
    s.gpu = j.value("gpu", std::string());
    s.input_dir = j.value("input_dir", std::string());
    s.output_dir = j.value("output_dir", std::string());
    s.accelerator = j.value("accelerator", std::string());
    s.datasets = j.value("datasets", std::vector<std::string>{});
    s.internet = j.value("internet", false);
  } catch (const json::exception& e) {
    throw_usage("a job's stored spec is malformed: {}", e.what());
  }
  return s;
}

namespace {

std::string
absolute(const std::string& p)
{
  std::error_code ec;
  auto a = fs::absolute(p, ec);
  return ec ? p : a.lexically_normal().string();
}

std::string
default_name(const JobSpec& s)
{
  std::string base;
  if (!s.file_name.empty()) {
    base = s.file_name;
  } else if (!s.argv.empty()) {
    base = fs::path(s.argv.front()).filename().string();
  }
  std::string out;
  for (char c : base) {
    bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
    out += ok ? c : '-';
    if (out.size() >= 48) {
      break;
    }
  }
  return out.empty() ? "job" : out;
}

} // namespace

store::JobRow
submit(store::Database& db, const SubmitRequest& r, const std::string& jobs_root, Instant now)
{
  JobSpec spec = r.spec;
  // Validate everything before writing anything.
  if (spec.kind != "command" && spec.kind != "script" && spec.kind != "notebook") {
    throw_usage("unknown job kind '{}'", spec.kind);
  }
  if (spec.kind == "command" && spec.argv.empty()) {
    throw_usage("nothing to run: give --script FILE, --notebook FILE.ipynb or --command CMD");
  }
  if (spec.kind != "command") {
    if (spec.file.empty()) {
      throw_usage("--{} needs a file", spec.kind);
    }
    std::error_code ec;
    if (!fs::exists(spec.file, ec)) {
      throw_usage("no such file: {}", spec.file);
    }
    if (!fs::is_regular_file(spec.file, ec)) {
      throw_usage("{} is not a regular file", spec.file);
    }
    if (spec.kind == "notebook") {
      std::ifstream in(spec.file);
      json nb = json::parse(in, nullptr, false);
      if (!nb.is_object() || !nb.contains("cells") || !nb["cells"].is_array()) {
        throw_usage("{} is not a Jupyter notebook (no \"cells\" list)", spec.file);
      }
      if (!spec.input_dir.empty()) {
        throw_usage("--input goes with ssh and vast.ai jobs; a notebook runs on Kaggle");
      }
    }
    spec.file = absolute(spec.file);
    spec.file_name = fs::path(spec.file).filename().string();
  }
  if (!spec.input_dir.empty()) {
    std::error_code ec;
    if (!fs::is_directory(spec.input_dir, ec)) {
      throw_usage("--input {}: not a directory", spec.input_dir);
    }
    spec.input_dir = absolute(spec.input_dir);
  }
  if (!spec.output_dir.empty()) {
    spec.output_dir = absolute(spec.output_dir);
  }
  if (!spec.provider.empty()) {
    parse_provider(spec.provider); // Error(usage) naming it
  }
  for (const auto& d : spec.datasets) {
    auto slash = d.find('/');
    if (slash == std::string::npos || slash == 0 || slash + 1 == d.size() ||
        d.find('/', slash + 1) != std::string::npos) {
      throw_usage("--dataset {}: expected OWNER/SLUG", d);
    }
  }
  bool kaggle_options = !spec.accelerator.empty() || !spec.datasets.empty() || spec.internet;
  if (kaggle_options && !spec.provider.empty() && spec.provider != "kaggle") {
    throw_usage("--accelerator, --dataset and --internet are Kaggle options; this job is for {}",
                spec.provider);
  }
  if (r.max_attempts < 1 || r.max_attempts > 100) {
    throw_usage("--max-attempts must be between 1 and 100, not {}", r.max_attempts);
  }
  if (r.timeout_s && *r.timeout_s < 60) {
    throw_usage("--timeout must be at least 1m");
  }
  std::string name = r.name.empty() ? default_name(spec) : r.name;
  if (name.size() > 128) {
    throw_usage("--name is longer than 128 characters");
  }
  return db.write([&] {
    // Which providers could run it, given the constraints and the registered workers.
    std::string why_not;
    if (!spec.worker.empty()) {
      auto w = store::require_worker(db.sql(), spec.worker);
      if (!spec.provider.empty() && w.provider != spec.provider) {
        throw_usage("worker '{}' is a {} worker, not {}", w.name, w.provider, spec.provider);
      }
      why_not = cannot_run(w.provider, spec);
      if (kaggle_options && w.provider != "kaggle") {
        why_not = "--accelerator, --dataset and --internet are Kaggle options";
      }
      if (!spec.gpu.empty() && w.gpu != spec.gpu) {
        why_not = fmt::format("worker '{}' has a {} GPU, not {}", w.name,
                              w.gpu.empty() ? "unknown" : w.gpu, spec.gpu);
      }
    } else if (!spec.provider.empty() || kaggle_options) {
      why_not = cannot_run(spec.provider.empty() ? "kaggle" : spec.provider, spec);
    } else if (cannot_run("kaggle", spec) != "" && cannot_run("ssh", spec) != "") {
      why_not = "no provider runs it";
    }
    if (!why_not.empty()) {
      throw_usage("this job cannot run there: {}", why_not);
    }
    if (kaggle_options && spec.provider.empty()) {
      spec.provider = "kaggle";
    }
    store::JobRow j;
    j.name = name;
    j.priority = r.priority;
    j.max_attempts = r.max_attempts;
    j.timeout_s = r.timeout_s;
    j.submitted_at = now;
    j.spec_json = to_json(spec).dump();
    j.id = store::insert_job(db.sql(), j);
    if (spec.kind != "command") {
      // Snapshot the file, so editing it after submit does not change the job.
      fs::path dir = fs::path(jobs_root) / std::to_string(j.id) / "submitted";
      std::error_code ec;
      fs::create_directories(dir, ec);
      fs::path dest = dir / spec.file_name;
      if (ec || !fs::copy_file(spec.file, dest, fs::copy_options::overwrite_existing, ec) || ec) {
        throw_usage("cannot copy {} into {}: {}", spec.file, dir.string(), ec.message());
      }
      spec.file = dest.string();
      j.spec_json = to_json(spec).dump();
      SQLite::Statement q(db.sql(), "UPDATE jobs SET spec_json = ? WHERE id = ?");
      q.bind(1, j.spec_json);
      q.bind(2, j.id);
      q.exec();
    }
    store::insert_job_event(db.sql(), now, "job.submit", j.id, std::nullopt, "queued",
                            json{{"name", j.name}, {"kind", spec.kind}}.dump());
    return *store::find_job(db.sql(), j.id);
  });
}

std::int64_t
run_limit_s(const store::JobRow& job)
{
  json r = json::parse(job.result_json, nullptr, false);
  return r.is_object() ? r.value("run_timeout_s", std::int64_t{0}) : 0;
}

std::string
job_dir(const store::JobRow& job, const JobSpec& spec, const std::string& jobs_root)
{
  if (!spec.output_dir.empty()) {
    return spec.output_dir;
  }
  return (fs::path(jobs_root) / std::to_string(job.id)).string();
}

CancelResult
cancel(store::Database& db, std::int64_t id, Instant now)
{
  return db.write([&] {
    auto j = store::require_job(db.sql(), id);
    if (j.final()) {
      throw_conflict("job {} already {}", id, j.state);
    }
    CancelResult r;
    if (j.state == "queued") {
      j.state = "cancelled";
      j.ended_at = now;
      store::update_job(db.sql(), j);
      store::insert_job_event(db.sql(), now, "job.cancelled", j.id, std::nullopt,
                              "cancelled while queued");
      r.job = j;
      return r;
    }
    std::string provider;
    if (j.worker_id) {
      SQLite::Statement q(db.sql(), "SELECT provider FROM workers WHERE id = ?");
      q.bind(1, *j.worker_id);
      if (q.executeStep()) {
        provider = q.getColumn(0).getString();
      }
    }
    r.runs_on = provider == "kaggle";
    r.stop_requested = !r.runs_on;
    if (j.cancel_requested) {
      r.job = j; // already requested: nothing more to write
      r.already = true;
      return r;
    }
    j.cancel_requested = true;
    store::update_job(db.sql(), j);
    store::insert_job_event(db.sql(), now, "job.cancel-requested", j.id, j.worker_id,
                            r.runs_on ? "Kaggle cannot stop a run: it runs until it ends or times out"
                                      : "the next tick stops the run");
    r.job = j;
    return r;
  });
}

std::map<std::int64_t, std::string>
why_queued_all(store::Database& db, const config::Config& cfg,
               const std::vector<store::JobRow>& jobs, Instant now)
{
  std::vector<store::JobRow> queued;
  for (const auto& j : jobs) {
    if (j.state == "queued") {
      queued.push_back(j);
    }
  }
  if (queued.empty()) {
    return {};
  }
  auto ws = store::list_workers(db.sql());
  auto loads = account_loads(db, cfg, now);
  auto views = worker_views(db, ws, now);
  const std::set<std::string> providers = {"kaggle", "ssh", "vast"};
  std::map<std::int64_t, std::string> out;
  // Each job is judged alone against the fleet as it is (not after the jobs ahead of it).
  for (const auto& j : queued) {
    auto need = job_need(j, spec_from_json_text(j.spec_json), providers);
    auto sel = select({need}, views, loads, now, true);
    auto it = sel.why.find(j.id);
    out[j.id] = it != sel.why.end() ? it->second
                                    : "a worker is free: it is dispatched at the next tick "
                                      "(gpuctl schedule --once)";
  }
  return out;
}

std::string
why_queued(store::Database& db, const config::Config& cfg, const store::JobRow& job, Instant now)
{
  auto all = why_queued_all(db, cfg, {job}, now);
  auto it = all.find(job.id);
  return it == all.end() ? "" : it->second;
}

} // namespace gpuctl::sched
