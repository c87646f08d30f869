// SPDX-License-Identifier: MIT
#include "gpuctl/fleet/fleet.hpp"
#include "gpuctl/store/jobs.hpp"

#include "gpuctl/core/error.hpp"
#include "gpuctl/providers/ssh/client.hpp"
#include "gpuctl/store/sessions.hpp"

#include <nlohmann/json.hpp>

#include <climits>
#include <filesystem>
#include <cstdlib>
#include <sys/stat.h>

namespace gpuctl::fleet {

namespace {

std::string
absolute_existing_file(const std::string& path)
{
  char buf[PATH_MAX];
  if (::realpath(path.c_str(), buf) == nullptr) {
    throw_usage("credentials file '{}' does not exist", path);
  }
  struct stat st {};
  if (::stat(buf, &st) != 0 || !S_ISREG(st.st_mode)) {
    throw_usage("credentials file '{}' is not a regular file", path);
  }
  return buf;
}

void
check_credentials_provider(Provider p)
{
  if (p == Provider::colab || p == Provider::ssh) {
    throw_usage("--credentials applies to kaggle and vast accounts only ({} uses none)",
                to_string(p));
  }
}

AccountView
make_view(const store::AccountRow& row, const config::Config& cfg, const providers::EnvLookup& env)
{
  AccountView v;
  v.row = row;
  v.provider = parse_provider(row.provider);
  v.overrides = quota::overrides_from_json_text(row.policy_json);
  v.policy = quota::effective_policy(v.provider, v.overrides, cfg);
  v.credentials = providers::credentials_source(v.provider, row.credentials_ref, env);
  return v;
}

std::string
detail(std::initializer_list<std::pair<const char*, std::string>> kv)
{
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [k, v] : kv) {
    j[k] = v;
  }
  return j.dump();
}

} // namespace

AccountSpec
check_account_spec(const AccountSpec& spec, const config::Config& cfg)
{
  AccountSpec out = spec;
  validate_name(spec.name, "account");
  quota::validate(spec.overrides, spec.provider);
  quota::validate_effective(quota::effective_policy(spec.provider, spec.overrides, cfg));
  if (spec.credentials_file) {
    check_credentials_provider(spec.provider);
    out.credentials_file = absolute_existing_file(*spec.credentials_file);
  }
  return out;
}

Outcome
add_account(store::Database& db, const AccountSpec& given, const config::Config& cfg, Instant now)
{
  AccountSpec spec = check_account_spec(given, cfg);
  const std::optional<std::string>& cred = spec.credentials_file;
  std::string policy = quota::to_json_text(spec.overrides);
  return db.write([&] {
    if (auto existing = store::find_account(db.sql(), spec.name)) {
      if (existing->provider == to_string(spec.provider) && existing->credentials_ref == cred &&
          quota::overrides_from_json_text(existing->policy_json) == spec.overrides) {
        return Outcome::unchanged;
      }
      throw_conflict("account '{}' already exists with other attributes (provider {}); use "
                     "'gpuctl account set' to change it",
                     spec.name, existing->provider);
    }
    store::AccountRow row;
    row.name = spec.name;
    row.provider = std::string(to_string(spec.provider));
    row.credentials_ref = cred;
    row.policy_json = policy;
    row.created_at = now;
    store::insert_account(db.sql(), row);
    store::insert_event(db.sql(), now, "account.add", std::nullopt, "added",
                        detail({{"account", spec.name}, {"provider", row.provider}}));
    return Outcome::created;
  });
}

Outcome
set_account(store::Database& db, const std::string& name,
            const std::optional<std::string>& credentials_file,
            const quota::PolicyOverrides& overrides, const std::vector<std::string>& reset,
            const config::Config& cfg, Instant now)
{
  static const std::vector<std::string> fields = {"weekly_gpu_hours", "daily_gpu_hours",
                                                  "session_max",      "shutdown_margin",
                                                  "concurrent",       "max_usd_per_day",
                                                  "credentials",      "all"};
  for (const auto& r : reset) {
    if (std::find(fields.begin(), fields.end(), r) == fields.end()) {
      throw_usage("cannot reset '{}': expected one of weekly_gpu_hours, daily_gpu_hours, "
                  "session_max, shutdown_margin, concurrent, max_usd_per_day, credentials, all",
                  r);
    }
  }
  std::optional<std::string> cred;
  if (credentials_file) {
    cred = absolute_existing_file(*credentials_file);
  }
  return db.write([&] {
    auto row = store::require_account(db.sql(), name);
    Provider p = parse_provider(row.provider);
    if (cred) {
      check_credentials_provider(p);
    }
    quota::PolicyOverrides o = quota::overrides_from_json_text(row.policy_json);
    auto has = [&](const char* f) {
      return std::find(reset.begin(), reset.end(), f) != reset.end() ||
             std::find(reset.begin(), reset.end(), "all") != reset.end();
    };
    if (has("weekly_gpu_hours")) o.weekly_gpu_hours.reset();
    if (has("daily_gpu_hours")) o.daily_gpu_hours.reset();
    if (has("session_max")) o.session_max.reset();
    if (has("shutdown_margin")) o.shutdown_margin.reset();
    if (has("concurrent")) o.concurrent.reset();
    if (has("max_usd_per_day")) o.max_usd_per_day.reset();
    o.merge(overrides);
    quota::validate(o, p);
    quota::validate_effective(quota::effective_policy(p, o, cfg));
    store::AccountRow updated = row;
    if (std::find(reset.begin(), reset.end(), "credentials") != reset.end()) {
      updated.credentials_ref.reset();
    }
    if (cred) {
      updated.credentials_ref = cred;
    }
    updated.policy_json = quota::to_json_text(o);
    if (updated.policy_json == row.policy_json && updated.credentials_ref == row.credentials_ref) {
      return Outcome::unchanged;
    }
    store::update_account(db.sql(), updated);
    store::insert_event(db.sql(), now, "account.set", std::nullopt, "policy changed",
                        detail({{"account", name}, {"policy", updated.policy_json}}));
    return Outcome::updated;
  });
}

int
remove_account(store::Database& db, const std::string& name, bool force, Instant now,
               std::vector<std::string>* left_running)
{
  return db.write([&] {
    auto row = store::require_account(db.sql(), name);
    if (row.workers > 0 && !force) {
      throw_conflict("account '{}' has {} worker(s); remove them first or use --force", name,
                     row.workers);
    }
    for (const auto& w : store::list_workers(db.sql(), {name, "vast"})) {
      if (w.provider_ref && w.state != "deleted") {
        if (!force) {
          throw_conflict("account '{}' has vast.ai instance {} (worker '{}'), which may still "
                         "bill; destroy it with 'gpuctl worker destroy {}' or use --force to "
                         "forget it (the instance keeps running)",
                         name, *w.provider_ref, w.name, w.name);
        }
        if (auto open = store::open_session_of_worker(db.sql(), w.id)) {
          store::close_session(db.sql(), open->id, now, "removed");
        }
        if (left_running != nullptr) {
          left_running->push_back(fmt::format("vast.ai instance {} (worker {})", *w.provider_ref, w.name));
        }
      }
    }
    auto open = store::open_sessions_of_account(db.sql(), row.id);
    if (!open.empty()) {
      throw_conflict("account '{}' has an open session on '{}'; stop it first with 'gpuctl session "
                     "stop {}'",
                     name, open.front().worker, open.front().worker);
    }
    int removed = store::delete_workers_of_account(db.sql(), row.id);
    store::delete_account(db.sql(), row.id);
    store::insert_event(db.sql(), now, "account.rm", std::nullopt,
                        force ? "removed with --force" : "removed",
                        detail({{"account", name}, {"workers_removed", std::to_string(removed)}}));
    return removed;
  });
}

std::vector<AccountView>
list_accounts(store::Database& db, const config::Config& cfg, const providers::EnvLookup& env)
{
  std::vector<AccountView> out;
  for (const auto& row : store::list_accounts(db.sql())) {
    out.push_back(make_view(row, cfg, env));
  }
  return out;
}

AccountView
show_account(store::Database& db, const std::string& name, const config::Config& cfg,
             const providers::EnvLookup& env)
{
  return make_view(store::require_account(db.sql(), name), cfg, env);
}

void
check_worker_spec(const WorkerSpec& spec)
{
  validate_name(spec.name, "worker");
  if (spec.gpu_count < 1 || spec.gpu_count > 64) {
    throw_usage("invalid --gpu-count {}: must be between 1 and 64", spec.gpu_count);
  }
  if (spec.price_usd_per_hour && !(*spec.price_usd_per_hour >= 0 && *spec.price_usd_per_hour < 1000)) {
    throw_usage("invalid --price {}: USD per hour must be between 0 and 1000", *spec.price_usd_per_hour);
  }
  for (char c : spec.gpu) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.' ||
          c == ' ')) {
      throw_usage("invalid --gpu '{}': use letters, digits, '_', '-' and '.'", spec.gpu);
    }
  }
  if (spec.identity) {
    std::error_code ec;
    if (spec.identity->empty() || !std::filesystem::is_regular_file(*spec.identity, ec)) {
      throw_usage("identity file '{}' does not exist or is not a regular file", *spec.identity);
    }
  }
}

Outcome
add_worker(store::Database& db, const WorkerSpec& spec, Instant now)
{
  check_worker_spec(spec);
  return db.write([&] {
    auto account = store::require_account(db.sql(), spec.account);
    Provider p = parse_provider(account.provider);
    if (spec.host && p != Provider::ssh) {
      throw_usage("--host applies to workers of ssh accounts only ('{}' is {})", spec.account,
                  account.provider);
    }
    if (!spec.host && p == Provider::ssh) {
      throw_usage("a worker of ssh account '{}' needs --host user@host[:port]", spec.account);
    }
    if (spec.host && (spec.host->empty() || spec.host->front() == '-' ||
                      spec.host->find_first_of(" \t\n'\"\\;") != std::string::npos)) {
      throw_usage("invalid --host '{}': expected user@host[:port]", *spec.host);
    }
    if (spec.identity && p != Provider::ssh) {
      throw_usage("--identity applies to workers of ssh accounts only ('{}' is {})", spec.account,
                  account.provider);
    }
    if (spec.host && p == Provider::ssh) {
      providers::ssh::parse_target(*spec.host); // Error(usage) naming the value
    }
    std::string spec_json = "{}";
    if (spec.identity) {
      spec_json = nlohmann::json{{"identity", std::filesystem::absolute(*spec.identity)
                                                  .lexically_normal()
                                                  .string()}}
                      .dump();
    }
    if (spec.instance_id && p != Provider::vast) {
      throw_usage("--instance-id applies to workers of vast accounts only");
    }
    if (spec.instance_id) {
      // vast.ai instance ids are positive integers (specs/vast-api.md); one spelling per id, so
      // "0777" or " 777" cannot register a second worker for instance 777.
      const std::string& iid = *spec.instance_id;
      if (iid.empty() || iid.size() > 12 || iid.front() == '0' ||
          iid.find_first_not_of("0123456789") != std::string::npos) {
        throw_usage("invalid --instance-id '{}': expected a vast.ai instance id such as 4240", iid);
      }
    }
    if (spec.price_usd_per_hour && p != Provider::vast && p != Provider::ssh) {
      throw_usage("--price applies to vast and ssh workers only ({} is free)", account.provider);
    }
    if (auto existing = store::find_worker(db.sql(), spec.name)) {
      bool same = existing->account_id == account.id && existing->gpu == spec.gpu &&
                  existing->gpu_count == spec.gpu_count && existing->host == spec.host &&
                  existing->provider_ref == (spec.instance_id ? spec.instance_id : spec.host) &&
                  existing->price_usd_per_hour == spec.price_usd_per_hour &&
                  (p != Provider::ssh || existing->spec_json == spec_json);
      if (same) {
        return Outcome::unchanged;
      }
      throw_conflict("worker '{}' already exists with other attributes (account {}, gpu {}); "
                     "remove it first to re-register it",
                     spec.name, existing->account, existing->gpu.empty() ? "-" : existing->gpu);
    }
    if (spec.instance_id) {
      for (const auto& w : store::list_workers(db.sql())) {
        if (w.provider == "vast" && w.provider_ref == spec.instance_id && w.state != "deleted") {
          throw_conflict("vast.ai instance {} is already worker '{}'", *spec.instance_id, w.name);
        }
      }
    }
    store::WorkerRow row;
    row.name = spec.name;
    row.account_id = account.id;
    row.provider = account.provider;
    row.gpu = spec.gpu;
    row.gpu_count = spec.gpu_count;
    row.host = spec.host;
    row.provider_ref = spec.instance_id ? spec.instance_id : spec.host;
    row.spec_json = spec_json;
    row.price_usd_per_hour = spec.price_usd_per_hour;
    row.created_at = now;
    auto id = store::insert_worker(db.sql(), row);
    store::insert_event(db.sql(), now, "worker.add", id, "added",
                        detail({{"worker", spec.name}, {"account", spec.account}}));
    return Outcome::created;
  });
}

Outcome
remove_worker(store::Database& db, const std::string& name, bool force, Instant now,
              std::vector<std::string>* left_running)
{
  return db.write([&] {
    auto row = store::require_worker(db.sql(), name);
    for (const auto& j : store::active_jobs(db.sql())) {
      if (j.worker_id == row.id && !force) {
        throw_conflict("worker '{}' is running job {}; cancel it first with 'gpuctl job cancel {}' "
                       "(or use --force to forget the worker and leave the run to its fate)",
                       name, j.id, j.id);
      }
    }
    if (row.provider == "vast" && row.provider_ref && row.state != "deleted") {
      if (!force) {
        throw_conflict("worker '{}' holds vast.ai instance {}, which may still bill; destroy it "
                       "with 'gpuctl worker destroy {}' or use --force to forget it (the "
                       "instance keeps running)",
                       name, *row.provider_ref, name);
      }
      if (auto open = store::open_session_of_worker(db.sql(), row.id)) {
        store::close_session(db.sql(), open->id, now, "removed");
      }
      if (left_running != nullptr) {
        left_running->push_back(fmt::format("vast.ai instance {}", *row.provider_ref));
      }
    }
    if (auto open = store::open_session_of_worker(db.sql(), row.id)) {
      throw_conflict("worker '{}' has an open session ({}); stop it first with 'gpuctl session "
                     "stop {}'",
                     name, open->id, name);
    }
    store::delete_worker(db.sql(), row.id);
    store::insert_event(db.sql(), now, "worker.rm", std::nullopt, "removed",
                        detail({{"worker", name}, {"account", row.account}}));
    return Outcome::removed;
  });
}

Outcome
set_worker_enabled(store::Database& db, const std::string& name, bool enabled, Instant now)
{
  return db.write([&] {
    auto row = store::require_worker(db.sql(), name);
    if (row.enabled == enabled) {
      return Outcome::unchanged;
    }
    store::set_worker_enabled(db.sql(), row.id, enabled);
    store::insert_event(db.sql(), now, enabled ? "worker.enable" : "worker.disable", row.id,
                        enabled ? "enabled" : "disabled", detail({{"worker", name}}));
    return Outcome::updated;
  });
}

std::vector<store::WorkerRow>
list_workers(store::Database& db, const store::WorkerFilter& f)
{
  if (!f.account.empty()) {
    store::require_account(db.sql(), f.account);
  }
  if (!f.provider.empty()) {
    parse_provider(f.provider);
  }
  return store::list_workers(db.sql(), f);
}

store::WorkerRow
show_worker(store::Database& db, const std::string& name)
{
  return store::require_worker(db.sql(), name);
}

} // namespace gpuctl::fleet
