// SPDX-License-Identifier: MIT
#include "gpuctl/core/error.hpp"
#include "gpuctl/sched/backends.hpp"
#include "gpuctl/sched/snapshot.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace gpuctl::sched {

namespace {

namespace kaggle = providers::kaggle;
using json = nlohmann::json;

class KaggleBackend final : public Backend {
public:
  KaggleBackend(store::Database& db, cloud::Env& env) : m_db(db), m_env(env) {}

  std::string cannot_run(const JobSpec& spec) const override
  {
    return sched::cannot_run("kaggle", spec);
  }

  bool session_per_job() const override { return true; }

  std::map<std::int64_t, Health> refresh(const std::vector<store::WorkerRow>& workers) override
  {
    std::map<std::int64_t, Health> out;
    std::map<std::string, std::vector<std::int64_t>> by_account;
    for (const auto& w : workers) {
      by_account[w.account].push_back(w.id);
    }
    for (const auto& [account, ids] : by_account) {
      Health h;
      try {
        client(account).list_kernels(1);
        h.reached = true;
      } catch (const Error& e) {
        h.error = e.what();
        if (e.kind() == ErrorKind::interrupted) {
          throw;
        }
      }
      for (auto id : ids) {
        out[id] = h;
      }
    }
    return out;
  }

  json launch(const RunContext& r) override
  {
    auto& c = client(r.account.name);
    kaggle::PushRequest p;
    p.owner = owner(r.account.name);
    p.slug = slug(r.key);
    p.title = p.slug;
    std::ifstream in(r.spec.file, std::ios::binary);
    if (!in) {
      throw Error(ErrorKind::failure, fmt::format("cannot read {} (the job's snapshot)", r.spec.file));
    }
    std::ostringstream text;
    text << in.rdbuf();
    p.text = text.str();
    p.kernel_type = r.spec.kind == "notebook" ? "notebook" : "script";
    p.language = "python";
    p.enable_gpu = true;
    p.enable_internet = r.spec.internet;
    if (!r.spec.accelerator.empty()) {
      p.machine_shape = r.spec.accelerator;
    }
    p.dataset_sources = r.spec.datasets;
    // Kaggle cannot stop a run (§8): the run limit makes it end by itself before the deadline.
    p.session_timeout_s = r.timeout_s;
    auto res = c.push(p);
    json d = {{"kaggle_ref", p.owner + "/" + p.slug}, {"kaggle_version", res.version}};
    if (!res.url.empty()) {
      d["kaggle_url"] = res.url;
    }
    if (!res.dropped_sources.empty()) {
      d["dropped_sources"] = res.dropped_sources;
    }
    return d;
  }

  Observation observe(const RunContext& r) override
  {
    Observation o;
    kaggle::KernelStatus s;
    try {
      s = client(r.account.name).kernel_status(owner(r.account.name), slug(r.key));
    } catch (const kaggle::NotFound&) {
      o.phase = Phase::absent;
      return o;
    }
    const std::string& st = s.status;
    if (st == "COMPLETE") {
      o.phase = Phase::succeeded;
      o.exit_code = 0;
    } else if (st == "ERROR" || st == "CANCEL_ACKNOWLEDGED") {
      o.phase = Phase::failed;
      o.exit_code = 1;
      o.message = s.failure_message.empty() ? st : s.failure_message;
    } else if (st == "RUNNING" || st == "CANCEL_REQUESTED") {
      o.phase = Phase::running;
    } else {
      o.phase = Phase::queued;
    }
    return o;
  }

  void collect(const RunContext& r, const std::string& dir) override
  {
    auto& c = client(r.account.name);
    auto out = c.output(owner(r.account.name), slug(r.key));
    for (const auto& f : out.files) {
      c.download(f, dir);
    }
    std::ofstream log(std::filesystem::path(dir) / "log", std::ios::binary | std::ios::trunc);
    log << log_text(out.log);
  }

  std::string log(const RunContext& r, std::int64_t offset) override
  {
    auto out = client(r.account.name).output(owner(r.account.name), slug(r.key));
    std::string text = log_text(out.log);
    return offset < static_cast<std::int64_t>(text.size()) ? text.substr(static_cast<size_t>(offset))
                                                         : std::string();
  }

  void stop(const RunContext&) override
  {
    throw_conflict("Kaggle cannot stop a run; it runs until it ends or reaches its session "
                   "timeout (specs/kaggle-api.md §8)");
  }

private:
  static std::string slug(const std::string& key) { return "gpuctl-" + key; }

  /// The log is a JSON array of {stream_name, time, data} (§5.1): its text, in order.
  static std::string log_text(const std::string& raw)
  {
    json lines = json::parse(raw, nullptr, false);
    if (!lines.is_array()) {
      return raw;
    }
    std::string out;
    for (const auto& l : lines) {
      if (l.is_object() && l.contains("data") && l["data"].is_string()) {
        out += l["data"].get<std::string>();
      }
    }
    return out;
  }

  kaggle::Client& client(const std::string& account)
  {
    auto it = m_clients.find(account);
    if (it == m_clients.end()) {
      auto a = store::require_account(m_db.sql(), account);
      it = m_clients.emplace(account, cloud::kaggle_client(m_db, m_env, a)).first;
    }
    return it->second;
  }

  std::string owner(const std::string& account)
  {
    auto& c = client(account);
    if (!c.auth().username.empty()) {
      return c.auth().username;
    }
    auto it = m_owners.find(account);
    if (it != m_owners.end()) {
      return it->second;
    }
    auto [active, user] = c.introspect();
    if (!active || user.empty()) {
      throw Error(ErrorKind::provider,
                  fmt::format("Kaggle: the API token of account '{}' is not active", account));
    }
    m_owners[account] = user;
    return user;
  }

  store::Database& m_db;
  cloud::Env& m_env;
  std::map<std::string, kaggle::Client> m_clients;
  std::map<std::string, std::string> m_owners;
};

} // namespace

std::unique_ptr<Backend>
make_kaggle_backend(store::Database& db, cloud::Env& env)
{
  return std::make_unique<KaggleBackend>(db, env);
}

} // namespace gpuctl::sched
