// SPDX-License-Identifier: MIT
// Repositories of the provider-call tables (migration 4): intents and api_calls, plus the worker
// fields a provider listing updates. The caller owns the transaction (Database::write).
#pragma once
#include "gpuctl/core/clock.hpp"

#include <SQLiteCpp/Database.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace gpuctl::store {

/// A row of `intents`: written before a provider call that creates or changes something,
/// confirmed after (DESIGN §3). `key` is what the call leaves at the provider to be found again
/// (the vast.ai label, the Kaggle slug).
struct IntentRow {
  std::int64_t id = 0;
  std::string kind; ///< rent | start | stop | destroy
  std::optional<std::int64_t> worker_id;
  std::string key;
  Instant created_at{};
  std::optional<Instant> confirmed_at;
  std::string detail_json = "{}";
};

std::int64_t insert_intent(SQLite::Database& db, const IntentRow& row);
void confirm_intent(SQLite::Database& db, std::int64_t id, Instant at,
                    const std::optional<std::string>& detail_json = std::nullopt);
/// Unconfirmed intents of a worker, oldest first.
std::vector<IntentRow> open_intents_of_worker(SQLite::Database& db, std::int64_t worker_id);
/// Every unconfirmed worker intent, by worker id, oldest first.
std::map<std::int64_t, std::vector<IntentRow>> open_intents_by_worker(SQLite::Database& db);

/// What a provider listing says about a worker's instance.
struct WorkerObservation {
  std::string state;                       ///< gpuctl worker state
  std::optional<double> price_usd_per_hour; ///< unchanged when nullopt
  std::optional<double> gpu_util;           ///< percent; null = no sample
  Instant seen_at{};
  std::optional<std::string> host;          ///< ssh address ("root@HOST:PORT"); unchanged when nullopt
};
void observe_worker(SQLite::Database& db, std::int64_t worker_id, const WorkerObservation& o);
/// Sets a worker's instance id (provider_ref).
void set_worker_instance(SQLite::Database& db, std::int64_t worker_id, const std::string& ref);
/// Forgets a worker's instance before it is re-rented: no provider_ref or host, state starting,
/// the new offer's GPU model and $/h.
void detach_instance(SQLite::Database& db, std::int64_t worker_id, const std::string& gpu,
                     double price_usd_per_hour);
/// Replaces a worker's spec_json.
void set_worker_spec(SQLite::Database& db, std::int64_t worker_id, const std::string& spec_json);

/// Reserves the next slot for a call to `endpoint` with key `key_id` at least `gap_ms` after the
/// previous one (all processes), and returns how many milliseconds to wait before sending.
/// `now_ms` is wall-clock epoch milliseconds.
std::int64_t reserve_api_call(SQLite::Database& db, const std::string& provider,
                              const std::string& endpoint, const std::string& key_id,
                              std::int64_t gap_ms, std::int64_t now_ms);

} // namespace gpuctl::store

namespace gpuctl::store {

/// Records a reconciliation with a provider's figure (DESIGN §3 adjustments): `hours` added to
/// the account's usage in the `window` ("weekly" | "daily") containing `at`.
void insert_adjustment(SQLite::Database& db, std::int64_t account_id, Instant at,
                       const std::string& window, double hours, const std::string& reason);

/// The worker holding vast.ai instance `instance_id`, if any.
std::optional<std::int64_t> worker_of_instance(SQLite::Database& db, const std::string& instance_id);

} // namespace gpuctl::store
