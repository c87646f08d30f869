// SPDX-License-Identifier: MIT
// Repositories of the hibernation tables (migration 6, DESIGN §8): per-worker overrides and
// state instants, GPU utilisation samples. The caller owns the transaction.
#pragma once
#include "gpuctl/core/clock.hpp"

#include <SQLiteCpp/Database.h>

#include <cstdint>
#include <map>
#include <utility>
#include <optional>
#include <string>
#include <vector>

namespace gpuctl::store {

/// A row of `hibernation` (absent = defaults, nothing recorded yet).
struct HibernationRow {
  std::int64_t worker_id = 0;
  std::string config_json = "{}"; ///< overrides of [hibernate] (hibernate::Overrides)
  std::optional<Instant> idle_since;    ///< first idle sample of the current idle stretch
  std::optional<Instant> hibernated_at; ///< when the sweep stopped it
  std::optional<Instant> woke_at;       ///< last start or wake
  std::optional<double> storage_usd_per_hour; ///< what the stopped instance costs (listing)
};

/// The row of `worker_id`, or a default one (not inserted).
HibernationRow hibernation_of(SQLite::Database& db, std::int64_t worker_id);
/// Inserts or replaces the row.
void save_hibernation(SQLite::Database& db, const HibernationRow& row);

/// One utilisation sample; `gpu_util` null = the listing had none (counts as busy).
struct UtilSample {
  Instant at{};
  std::optional<double> gpu_util; ///< percent
};
void insert_sample(SQLite::Database& db, std::int64_t worker_id, const UtilSample& s);
/// Samples of a worker at or after `since`, newest first.
std::vector<UtilSample> samples_since(SQLite::Database& db, std::int64_t worker_id, Instant since);
/// Deletes samples older than `before`; returns how many.
int prune_samples(SQLite::Database& db, Instant before);
/// The oldest sample's instant, if any (cheap: the time index).
std::optional<Instant> oldest_sample(SQLite::Database& db);
/// Inserts many samples with one prepared statement.
void insert_samples(SQLite::Database& db,
                    const std::vector<std::pair<std::int64_t, UtilSample>>& samples);
/// Samples at or after `since` of every worker, newest first per worker (one range scan).
std::map<std::int64_t, std::vector<UtilSample>> recent_samples(SQLite::Database& db, Instant since);
/// Every hibernation row, by worker id.
std::map<std::int64_t, HibernationRow> hibernation_all(SQLite::Database& db);

/// A row of `wake_schedules`: local times as minutes after midnight in `tz`, days bit 0 = Monday.
struct ScheduleRow {
  std::int64_t worker_id = 0;
  std::optional<int> wake_min;
  std::optional<int> sleep_min;
  std::string tz;
  int days = 0x7f;
  std::optional<Instant> last_checked_at; ///< the sweep that last applied it
};
std::optional<ScheduleRow> schedule_of(SQLite::Database& db, std::int64_t worker_id);
/// Every schedule, by worker id.
std::map<std::int64_t, ScheduleRow> schedules_all(SQLite::Database& db);
void save_schedule(SQLite::Database& db, const ScheduleRow& row);
/// Returns whether there was one.
bool delete_schedule(SQLite::Database& db, std::int64_t worker_id);

/// Deletes events older than `before`; returns how many.
int prune_events(SQLite::Database& db, Instant before);

} // namespace gpuctl::store
