// SPDX-License-Identifier: MIT
// Repository of the job queue (migration 5, DESIGN §3 jobs): plain rows in, plain rows out; the
// caller owns the transaction (Database::write).
#pragma once
#include "gpuctl/core/clock.hpp"

#include <SQLiteCpp/Database.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace gpuctl::store {

/// A row of `jobs`, with its worker's name as it was when dispatched.
struct JobRow {
  std::int64_t id = 0;
  std::string name;
  std::string state = "queued"; ///< queued dispatched running succeeded failed cancelled lost
  int priority = 0;             ///< higher runs first
  std::string spec_json = "{}"; ///< what to run and where (sched::JobSpec)
  std::optional<std::int64_t> worker_id;
  std::optional<std::string> worker_name;
  std::optional<std::int64_t> session_id; ///< the quota session of this run (Kaggle)
  int attempts = 0;                       ///< dispatches so far
  int max_attempts = 3;
  std::optional<std::string> dispatch_key; ///< of the current / last attempt
  Instant submitted_at{};
  std::optional<Instant> dispatched_at;
  std::optional<Instant> started_at;
  std::optional<Instant> ended_at;
  std::optional<std::int64_t> timeout_s; ///< seconds; null = until the session's deadline
  std::optional<int> exit_code;
  bool cancel_requested = false;
  std::string result_json = "{}"; ///< provider refs, output dir, failure message

  /// succeeded, failed or cancelled.
  bool final() const;
  /// dispatched, running or lost: the run may be alive at the provider.
  bool active() const;
};

std::int64_t insert_job(SQLite::Database& db, const JobRow& row);
std::optional<JobRow> find_job(SQLite::Database& db, std::int64_t id);
/// Error(usage) "no job N" when missing.
JobRow require_job(SQLite::Database& db, std::int64_t id);
/// Jobs newest first; `state` "" = any.
std::vector<JobRow> list_jobs(SQLite::Database& db, const std::string& state = {});
/// Queued jobs in dispatch order: priority (high first), then age, then id.
std::vector<JobRow> queued_jobs(SQLite::Database& db);
/// Jobs that may be alive at a provider (dispatched, running, lost), oldest first.
std::vector<JobRow> active_jobs(SQLite::Database& db);
/// Rewrites every mutable column of the row with this id.
void update_job(SQLite::Database& db, const JobRow& row);

/// Appends an event about a job (and its worker) to the event log.
void insert_job_event(SQLite::Database& db, Instant at, const std::string& type,
                      std::int64_t job_id, std::optional<std::int64_t> worker_id,
                      const std::string& reason, const std::string& detail_json = "{}");

/// A row of `events`, with names resolved.
struct EventRow {
  std::int64_t id = 0;
  Instant at{};
  std::string type;
  std::optional<std::int64_t> worker_id;
  std::optional<std::string> worker; ///< after a removal: the name its event recorded
  std::optional<std::int64_t> job_id;
  std::string reason;
  std::string detail_json = "{}";
};
/// Events oldest first, optionally only those at or after `since`, of `type`, of job `job_id`.
std::vector<EventRow> list_events(SQLite::Database& db, std::optional<Instant> since,
                                  const std::string& type = {},
                                  std::optional<std::int64_t> job_id = std::nullopt);

/// Records that the `level` ("1h" | "30m") deadline warning of a session was given; false when it
/// already was (warnings are given once).
bool record_session_warning(SQLite::Database& db, std::int64_t session_id, const std::string& level,
                            Instant at);

/// Sets workers.last_dispatched_at.
void set_worker_dispatched(SQLite::Database& db, std::int64_t worker_id, Instant at);

/// Unconfirmed intents of a job, oldest first (kind "dispatch").
struct JobIntent {
  std::int64_t id = 0;
  std::string kind;
  std::int64_t job_id = 0;
  std::optional<std::int64_t> worker_id;
  std::string key;
  Instant created_at{};
  std::string detail_json = "{}";
};
std::int64_t insert_job_intent(SQLite::Database& db, const JobIntent& row);
std::vector<JobIntent> open_job_intents(SQLite::Database& db);

/// A slot of the active plan.
struct SlotRow {
  std::int64_t worker_id = 0;
  Instant start{};
  Instant end{};
};
/// Slots of the active plan that cover `at` (start ≤ at < end); nullopt when no plan is active.
std::optional<std::vector<SlotRow>> active_plan_slots_at(SQLite::Database& db, Instant at);

/// Whether an event of `type` about `worker_id` was recorded at or after `since`.
bool event_since(SQLite::Database& db, const std::string& type, std::int64_t worker_id,
                 Instant since);

/// workers.last_dispatched_at of every worker that has one.
std::map<std::int64_t, Instant> last_dispatched_all(SQLite::Database& db);

/// Deletes a session row (a dispatch that never reached the provider ran no GPU time).
void delete_session(SQLite::Database& db, std::int64_t id);

} // namespace gpuctl::store
