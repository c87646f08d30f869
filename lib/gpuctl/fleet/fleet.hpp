// SPDX-License-Identifier: MIT
// The registry service: accounts and workers (DESIGN §3, §9). Every mutation is one
// transaction; nothing here prints.
#pragma once
#include "gpuctl/config/config.hpp"
#include "gpuctl/core/clock.hpp"
#include "gpuctl/providers/credentials.hpp"
#include "gpuctl/quota/policy.hpp"
#include "gpuctl/store/database.hpp"
#include "gpuctl/store/registry.hpp"

#include <optional>
#include <string>
#include <vector>

namespace gpuctl::fleet {

/// What a mutation did.
enum class Outcome { created, unchanged, updated, removed };

/// `account add` input.
struct AccountSpec {
  std::string name;
  Provider provider = Provider::kaggle;
  std::optional<std::string> credentials_file; ///< made absolute; must exist
  quota::PolicyOverrides overrides;
};

/// An account as shown: row, effective policy, overrides, credentials source.
struct AccountView {
  store::AccountRow row;
  Provider provider = Provider::kaggle;
  quota::PolicyOverrides overrides;
  quota::Policy policy;
  std::optional<std::string> credentials; ///< "file" | "env" | nullopt (never the secret)
};

/// Checks an account spec without touching the DB (name, policy, credentials file) and returns
/// it normalised (credentials path made absolute). Throws Error(usage). Commands call it before
/// opening the state file, so bad input never creates or changes it.
AccountSpec check_account_spec(const AccountSpec& spec, const config::Config& cfg);

/// Registers an account. Re-adding with the same attributes → Outcome::unchanged; with other
/// attributes → Error(conflict). Throws Error(usage) for an invalid name, policy or file.
Outcome add_account(store::Database& db, const AccountSpec& spec, const config::Config& cfg,
                    Instant now);

/// `account set`: replaces the given overrides (and credentials file). `reset` names override
/// fields to drop back to the provider default ("weekly_gpu_hours", …, or "all").
/// Throws Error(usage) when the account does not exist.
Outcome set_account(store::Database& db, const std::string& name,
                    const std::optional<std::string>& credentials_file,
                    const quota::PolicyOverrides& overrides, const std::vector<std::string>& reset,
                    const config::Config& cfg, Instant now);

/// Removes an account. With workers it is refused (Error(conflict)) unless `force`, which removes
/// them in the same transaction. A vast.ai instance that may still bill refuses it too unless
/// `force`; then its session is closed ("removed") and it is listed in `left_running` (it keeps
/// running at vast.ai). Returns how many workers went with it.
int remove_account(store::Database& db, const std::string& name, bool force, Instant now,
                   std::vector<std::string>* left_running = nullptr);

/// All accounts, by name, with effective policies.
std::vector<AccountView> list_accounts(store::Database& db, const config::Config& cfg,
                                       const providers::EnvLookup& env);
/// One account; Error(usage) when unknown.
AccountView show_account(store::Database& db, const std::string& name, const config::Config& cfg,
                         const providers::EnvLookup& env);

/// `worker add` input.
struct WorkerSpec {
  std::string name;
  std::string account;
  std::string gpu;          ///< model, e.g. "T4"; "" = unknown
  int gpu_count = 1;
  std::optional<std::string> host;        ///< ssh: user@host[:port] (providers::ssh::parse_target)
  std::optional<std::string> identity;    ///< ssh: private key file; stored absolute in
                                          ///< spec_json {"identity": PATH}
  std::optional<std::string> instance_id; ///< vast: instance id
  std::optional<double> price_usd_per_hour;
};

/// Checks a worker spec without touching the DB (name, GPU, count, price, that --identity is an
/// existing file). Throws Error(usage).
void check_worker_spec(const WorkerSpec& spec);

/// Registers a worker on an account. Same attributes again → unchanged; other attributes →
/// Error(conflict); unknown account, bad name or options → Error(usage).
Outcome add_worker(store::Database& db, const WorkerSpec& spec, Instant now);
/// Removes a worker; refused (Error(conflict)) while it has an open session, or — unless `force`
/// — while it holds a vast.ai instance that may still bill. With `force` that instance's session
/// is closed ("removed") and the instance is listed in `left_running`.
Outcome remove_worker(store::Database& db, const std::string& name, bool force, Instant now,
                      std::vector<std::string>* left_running = nullptr);
/// Enables or disables a worker (disabled workers get no sessions or jobs).
Outcome set_worker_enabled(store::Database& db, const std::string& name, bool enabled,
                           Instant now);
/// Workers by name, optionally filtered by account and provider.
std::vector<store::WorkerRow> list_workers(store::Database& db, const store::WorkerFilter& f);
/// One worker; Error(usage) when unknown.
store::WorkerRow show_worker(store::Database& db, const std::string& name);

} // namespace gpuctl::fleet
