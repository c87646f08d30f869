// SPDX-License-Identifier: MIT
// Repositories of the registry tables (accounts, workers). Plain rows in, plain rows out; the
// caller owns the transaction (Database::write).
#pragma once
#include "gpuctl/core/clock.hpp"

#include <SQLiteCpp/Database.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace gpuctl::store {

/// A row of `accounts`.
struct AccountRow {
  std::int64_t id = 0;
  std::string name;
  std::string provider;                       ///< kaggle | colab | vast | ssh
  std::optional<std::string> credentials_ref; ///< absolute path of a credentials file
  std::string policy_json = "{}";             ///< per-account overrides only
  Instant created_at{};
  int workers = 0;                            ///< filled by list/find
};

/// A row of `workers`, with its account's name.
struct WorkerRow {
  std::int64_t id = 0;
  std::string name;
  std::int64_t account_id = 0;
  std::string account;
  std::string provider;
  std::string gpu;
  int gpu_count = 1;
  bool enabled = true;
  std::string state = "offline";  ///< offline starting online idle stopping hibernated deleted
  std::string control = "manual"; ///< manual | plan | autoscale
  std::optional<std::string> host;
  std::optional<std::string> provider_ref; ///< instance id (vast), host (ssh)
  std::string spec_json = "{}";
  std::optional<double> price_usd_per_hour;
  std::optional<double> gpu_util; ///< percent
  std::optional<Instant> last_seen_at;
  Instant created_at{};
};

std::optional<AccountRow> find_account(SQLite::Database& db, const std::string& name);
std::vector<AccountRow> list_accounts(SQLite::Database& db);
/// Inserts and returns the new id.
std::int64_t insert_account(SQLite::Database& db, const AccountRow& row);
void update_account(SQLite::Database& db, const AccountRow& row);
void delete_account(SQLite::Database& db, std::int64_t id);

/// Optional filters for list_workers; empty = any.
struct WorkerFilter {
  std::string account;
  std::string provider;
};
std::optional<WorkerRow> find_worker(SQLite::Database& db, const std::string& name);
/// find_account / find_worker that throw Error(usage) "no account named …" when missing.
AccountRow require_account(SQLite::Database& db, const std::string& name);
WorkerRow require_worker(SQLite::Database& db, const std::string& name);
std::vector<WorkerRow> list_workers(SQLite::Database& db, const WorkerFilter& filter = {});
/// The names of every account or worker (`table` "accounts" | "workers"), sorted: one indexed
/// column, for shell completion (a TAB must answer at once, even over thousands of workers).
std::vector<std::string> names(SQLite::Database& db, std::string_view table);
std::int64_t insert_worker(SQLite::Database& db, const WorkerRow& row);
void set_worker_enabled(SQLite::Database& db, std::int64_t id, bool enabled);
/// Sets a worker's state and when it was last seen.
void set_worker_state(SQLite::Database& db, std::int64_t id, const std::string& state,
                      Instant last_seen);
void delete_worker(SQLite::Database& db, std::int64_t id);
/// Deletes every worker of the account; returns how many.
int delete_workers_of_account(SQLite::Database& db, std::int64_t account_id);

/// Appends to the event log (DESIGN §3).
void insert_event(SQLite::Database& db, Instant at, const std::string& type,
                  std::optional<std::int64_t> worker_id, const std::string& reason,
                  const std::string& detail_json = "{}");

} // namespace gpuctl::store
