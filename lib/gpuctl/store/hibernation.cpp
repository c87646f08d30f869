// SPDX-License-Identifier: MIT
#include "gpuctl/store/hibernation.hpp"

#include "gpuctl/store/columns.hpp"

#include <SQLiteCpp/Statement.h>

namespace gpuctl::store {

namespace {

HibernationRow
read_hibernation(SQLite::Statement& q, int first)
{
  HibernationRow r;
  r.config_json = q.getColumn(first).getString();
  r.idle_since = opt_instant(q.getColumn(first + 1));
  r.hibernated_at = opt_instant(q.getColumn(first + 2));
  r.woke_at = opt_instant(q.getColumn(first + 3));
  r.storage_usd_per_hour = opt_double(q.getColumn(first + 4));
  return r;
}

ScheduleRow
read_schedule(SQLite::Statement& q, int first)
{
  ScheduleRow r;
  r.wake_min = opt_int(q.getColumn(first));
  r.sleep_min = opt_int(q.getColumn(first + 1));
  r.tz = q.getColumn(first + 2).getString();
  r.days = q.getColumn(first + 3).getInt();
  r.last_checked_at = opt_instant(q.getColumn(first + 4));
  return r;
}

} // namespace

std::map<std::int64_t, HibernationRow>
hibernation_all(SQLite::Database& db)
{
  SQLite::Statement q(db, "SELECT worker_id, config_json, idle_since, hibernated_at, woke_at, "
                          "storage_usd_per_hour FROM hibernation");
  std::map<std::int64_t, HibernationRow> out;
  while (q.executeStep()) {
    auto r = read_hibernation(q, 1);
    r.worker_id = q.getColumn(0).getInt64();
    out.emplace(r.worker_id, std::move(r));
  }
  return out;
}

std::map<std::int64_t, ScheduleRow>
schedules_all(SQLite::Database& db)
{
  SQLite::Statement q(db, "SELECT worker_id, wake_min, sleep_min, tz, days, last_checked_at FROM "
                          "wake_schedules");
  std::map<std::int64_t, ScheduleRow> out;
  while (q.executeStep()) {
    auto r = read_schedule(q, 1);
    r.worker_id = q.getColumn(0).getInt64();
    out.emplace(r.worker_id, std::move(r));
  }
  return out;
}

std::optional<Instant>
oldest_sample(SQLite::Database& db)
{
  SQLite::Statement q(db, "SELECT MIN(at) FROM util_samples");
  if (!q.executeStep() || q.getColumn(0).isNull()) {
    return std::nullopt;
  }
  return instant(q.getColumn(0).getInt64());
}

void
insert_samples(SQLite::Database& db, const std::vector<std::pair<std::int64_t, UtilSample>>& samples)
{
  SQLite::Statement q(db, "INSERT INTO util_samples(worker_id, at, gpu_util) VALUES (?, ?, ?)");
  for (const auto& [worker, s] : samples) {
    q.reset();
    q.bind(1, worker);
    q.bind(2, epoch(s.at));
    bind_opt(q, 3, s.gpu_util);
    q.exec();
  }
}

std::map<std::int64_t, std::vector<UtilSample>>
recent_samples(SQLite::Database& db, Instant since)
{
  SQLite::Statement q(db, "SELECT worker_id, at, gpu_util FROM util_samples WHERE at >= ? "
                          "ORDER BY at DESC");
  q.bind(1, epoch(since));
  std::map<std::int64_t, std::vector<UtilSample>> out;
  while (q.executeStep()) {
    UtilSample s;
    s.at = instant(q.getColumn(1).getInt64());
    s.gpu_util = opt_double(q.getColumn(2));
    out[q.getColumn(0).getInt64()].push_back(s);
  }
  return out;
}

HibernationRow
hibernation_of(SQLite::Database& db, std::int64_t worker_id)
{
  SQLite::Statement q(db, "SELECT config_json, idle_since, hibernated_at, woke_at, "
                          "storage_usd_per_hour FROM hibernation WHERE worker_id = ?");
  q.bind(1, worker_id);
  HibernationRow r;
  if (q.executeStep()) {
    r = read_hibernation(q, 0);
  }
  r.worker_id = worker_id;
  return r;
}

void
save_hibernation(SQLite::Database& db, const HibernationRow& r)
{
  SQLite::Statement q(db, "INSERT OR REPLACE INTO hibernation(worker_id, config_json, idle_since, "
                          "hibernated_at, woke_at, storage_usd_per_hour) VALUES (?, ?, ?, ?, ?, ?)");
  q.bind(1, r.worker_id);
  q.bind(2, r.config_json);
  bind_opt(q, 3, r.idle_since);
  bind_opt(q, 4, r.hibernated_at);
  bind_opt(q, 5, r.woke_at);
  bind_opt(q, 6, r.storage_usd_per_hour);
  q.exec();
}

void
insert_sample(SQLite::Database& db, std::int64_t worker_id, const UtilSample& s)
{
  SQLite::Statement q(db, "INSERT INTO util_samples(worker_id, at, gpu_util) VALUES (?, ?, ?)");
  q.bind(1, worker_id);
  q.bind(2, epoch(s.at));
  bind_opt(q, 3, s.gpu_util);
  q.exec();
}

std::vector<UtilSample>
samples_since(SQLite::Database& db, std::int64_t worker_id, Instant since)
{
  SQLite::Statement q(db, "SELECT at, gpu_util FROM util_samples WHERE worker_id = ? AND at >= ? "
                          "ORDER BY at DESC");
  q.bind(1, worker_id);
  q.bind(2, epoch(since));
  std::vector<UtilSample> out;
  while (q.executeStep()) {
    UtilSample s;
    s.at = instant(q.getColumn(0).getInt64());
    s.gpu_util = opt_double(q.getColumn(1));
    out.push_back(s);
  }
  return out;
}

int
prune_samples(SQLite::Database& db, Instant before)
{
  SQLite::Statement q(db, "DELETE FROM util_samples WHERE at < ?");
  q.bind(1, epoch(before));
  return q.exec();
}

std::optional<ScheduleRow>
schedule_of(SQLite::Database& db, std::int64_t worker_id)
{
  SQLite::Statement q(db, "SELECT wake_min, sleep_min, tz, days, last_checked_at FROM "
                          "wake_schedules WHERE worker_id = ?");
  q.bind(1, worker_id);
  if (!q.executeStep()) {
    return std::nullopt;
  }
  ScheduleRow r = read_schedule(q, 0);
  r.worker_id = worker_id;
  return r;
}

void
save_schedule(SQLite::Database& db, const ScheduleRow& r)
{
  SQLite::Statement q(db, "INSERT OR REPLACE INTO wake_schedules(worker_id, wake_min, sleep_min, "
                          "tz, days, last_checked_at) VALUES (?, ?, ?, ?, ?, ?)");
  q.bind(1, r.worker_id);
  bind_opt(q, 2, r.wake_min);
  bind_opt(q, 3, r.sleep_min);
  q.bind(4, r.tz);
  q.bind(5, r.days);
  bind_opt(q, 6, r.last_checked_at);
  q.exec();
}

bool
delete_schedule(SQLite::Database& db, std::int64_t worker_id)
{
  SQLite::Statement q(db, "DELETE FROM wake_schedules WHERE worker_id = ?");
  q.bind(1, worker_id);
  return q.exec() > 0;
}

int
prune_events(SQLite::Database& db, Instant before)
{
  SQLite::Statement q(db, "DELETE FROM events WHERE at < ?");
  q.bind(1, epoch(before));
  return q.exec();
}

} // namespace gpuctl::store
