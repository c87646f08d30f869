// SPDX-License-Identifier: MIT
#include "gpuctl/store/jobs.hpp"

#include "gpuctl/core/error.hpp"
#include "gpuctl/store/columns.hpp"

#include <SQLiteCpp/Statement.h>

namespace gpuctl::store {

namespace {

constexpr const char* k_job_select =
    "SELECT id, name, state, priority, spec_json, worker_id, worker_name, session_id, attempts, "
    "max_attempts, dispatch_key, submitted_at, dispatched_at, started_at, ended_at, timeout_s, "
    "exit_code, cancel_requested, result_json FROM jobs ";

JobRow
read_job(SQLite::Statement& q)
{
  JobRow r;
  r.id = q.getColumn(0).getInt64();
  r.name = q.getColumn(1).getString();
  r.state = q.getColumn(2).getString();
  r.priority = q.getColumn(3).getInt();
  r.spec_json = q.getColumn(4).getString();
  r.worker_id = opt_i64(q.getColumn(5));
  r.worker_name = opt_text(q.getColumn(6));
  r.session_id = opt_i64(q.getColumn(7));
  r.attempts = q.getColumn(8).getInt();
  r.max_attempts = q.getColumn(9).getInt();
  r.dispatch_key = opt_text(q.getColumn(10));
  r.submitted_at = instant(q.getColumn(11).getInt64());
  r.dispatched_at = opt_instant(q.getColumn(12));
  r.started_at = opt_instant(q.getColumn(13));
  r.ended_at = opt_instant(q.getColumn(14));
  r.timeout_s = opt_i64(q.getColumn(15));
  r.exit_code = opt_int(q.getColumn(16));
  r.cancel_requested = q.getColumn(17).getInt() != 0;
  r.result_json = q.getColumn(18).getString();
  return r;
}

std::vector<JobRow>
read_jobs(SQLite::Statement& q)
{
  std::vector<JobRow> out;
  while (q.executeStep()) {
    out.push_back(read_job(q));
  }
  return out;
}

} // namespace

bool
JobRow::final() const
{
  return state == "succeeded" || state == "failed" || state == "cancelled";
}

bool
JobRow::active() const
{
  return state == "dispatched" || state == "running" || state == "lost";
}

std::int64_t
insert_job(SQLite::Database& db, const JobRow& row)
{
  SQLite::Statement q(db, "INSERT INTO jobs(name, state, priority, spec_json, attempts, "
                          "max_attempts, submitted_at, timeout_s, result_json) "
                          "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
  q.bind(1, row.name);
  q.bind(2, row.state);
  q.bind(3, row.priority);
  q.bind(4, row.spec_json);
  q.bind(5, row.attempts);
  q.bind(6, row.max_attempts);
  q.bind(7, epoch(row.submitted_at));
  bind_opt(q, 8, row.timeout_s);
  q.bind(9, row.result_json);
  q.exec();
  return db.getLastInsertRowid();
}

std::optional<JobRow>
find_job(SQLite::Database& db, std::int64_t id)
{
  SQLite::Statement q(db, std::string(k_job_select) + "WHERE id = ?");
  q.bind(1, id);
  if (!q.executeStep()) {
    return std::nullopt;
  }
  return read_job(q);
}

JobRow
require_job(SQLite::Database& db, std::int64_t id)
{
  auto j = find_job(db, id);
  if (!j) {
    throw_usage("no job {} (see 'gpuctl job list')", id);
  }
  return *j;
}

std::vector<JobRow>
list_jobs(SQLite::Database& db, const std::string& state)
{
  SQLite::Statement q(db, std::string(k_job_select) +
                              (state.empty() ? "ORDER BY id DESC" : "WHERE state = ? ORDER BY id DESC"));
  if (!state.empty()) {
    q.bind(1, state);
  }
  return read_jobs(q);
}

std::vector<JobRow>
queued_jobs(SQLite::Database& db)
{
  SQLite::Statement q(db, std::string(k_job_select) +
                              "WHERE state = 'queued' ORDER BY priority DESC, submitted_at, id");
  return read_jobs(q);
}

std::vector<JobRow>
active_jobs(SQLite::Database& db)
{
  SQLite::Statement q(db, std::string(k_job_select) +
                              "WHERE state IN ('dispatched','running','lost') ORDER BY id");
  return read_jobs(q);
}

void
update_job(SQLite::Database& db, const JobRow& r)
{
  SQLite::Statement q(db, "UPDATE jobs SET state = ?, priority = ?, worker_id = ?, worker_name = ?, "
                          "session_id = ?, attempts = ?, dispatch_key = ?, dispatched_at = ?, "
                          "started_at = ?, ended_at = ?, timeout_s = ?, exit_code = ?, "
                          "cancel_requested = ?, result_json = ? WHERE id = ?");
  q.bind(1, r.state);
  q.bind(2, r.priority);
  bind_opt(q, 3, r.worker_id);
  bind_opt(q, 4, r.worker_name);
  bind_opt(q, 5, r.session_id);
  q.bind(6, r.attempts);
  bind_opt(q, 7, r.dispatch_key);
  bind_opt(q, 8, r.dispatched_at);
  bind_opt(q, 9, r.started_at);
  bind_opt(q, 10, r.ended_at);
  bind_opt(q, 11, r.timeout_s);
  bind_opt(q, 12, r.exit_code);
  q.bind(13, r.cancel_requested ? 1 : 0);
  q.bind(14, r.result_json);
  q.bind(15, r.id);
  q.exec();
}

void
insert_job_event(SQLite::Database& db, Instant at, const std::string& type, std::int64_t job_id,
                 std::optional<std::int64_t> worker_id, const std::string& reason,
                 const std::string& detail_json)
{
  SQLite::Statement st(db, "INSERT INTO events(at, type, worker_id, job_id, reason, detail_json) "
                           "VALUES (?, ?, ?, ?, ?, ?)");
  st.bind(1, epoch(at));
  st.bind(2, type);
  bind_opt(st, 3, worker_id);
  st.bind(4, job_id);
  st.bind(5, reason);
  st.bind(6, detail_json);
  st.exec();
}

std::vector<EventRow>
list_events(SQLite::Database& db, std::optional<Instant> since, const std::string& type,
            std::optional<std::int64_t> job_id)
{
  // A removed worker's events keep its name: the one its event detail recorded.
  std::string sql = "SELECT e.id, e.at, e.type, e.worker_id, "
                    "COALESCE(w.name, CASE WHEN json_valid(e.detail_json) AND "
                    "json_type(e.detail_json, '$.worker') = 'text' "
                    "THEN json_extract(e.detail_json, '$.worker') END), e.job_id, "
                    "COALESCE(e.reason, ''), COALESCE(e.detail_json, '{}') FROM events e "
                    "LEFT JOIN workers w ON w.id = e.worker_id WHERE 1 = 1 ";
  if (since) {
    sql += "AND e.at >= ? ";
  }
  if (!type.empty()) {
    sql += "AND e.type = ? ";
  }
  if (job_id) {
    sql += "AND e.job_id = ? ";
  }
  sql += "ORDER BY e.at, e.id";
  SQLite::Statement q(db, sql);
  int i = 1;
  if (since) {
    q.bind(i++, epoch(*since));
  }
  if (!type.empty()) {
    q.bind(i++, type);
  }
  if (job_id) {
    q.bind(i++, *job_id);
  }
  std::vector<EventRow> out;
  while (q.executeStep()) {
    EventRow e;
    e.id = q.getColumn(0).getInt64();
    e.at = instant(q.getColumn(1).getInt64());
    e.type = q.getColumn(2).getString();
    e.worker_id = opt_i64(q.getColumn(3));
    e.worker = opt_text(q.getColumn(4));
    e.job_id = opt_i64(q.getColumn(5));
    e.reason = q.getColumn(6).getString();
    e.detail_json = q.getColumn(7).getString();
    out.push_back(std::move(e));
  }
  return out;
}

bool
record_session_warning(SQLite::Database& db, std::int64_t session_id, const std::string& level,
                       Instant at)
{
  SQLite::Statement q(db, "INSERT OR IGNORE INTO session_warnings(session_id, level, at) "
                          "VALUES (?, ?, ?)");
  q.bind(1, session_id);
  q.bind(2, level);
  q.bind(3, epoch(at));
  return q.exec() > 0;
}

void
set_worker_dispatched(SQLite::Database& db, std::int64_t worker_id, Instant at)
{
  SQLite::Statement q(db, "UPDATE workers SET last_dispatched_at = ? WHERE id = ?");
  q.bind(1, epoch(at));
  q.bind(2, worker_id);
  q.exec();
}

std::int64_t
insert_job_intent(SQLite::Database& db, const JobIntent& row)
{
  SQLite::Statement q(db, "INSERT INTO intents(kind, worker_id, job_id, key, created_at, "
                          "detail_json) VALUES (?, ?, ?, ?, ?, ?)");
  q.bind(1, row.kind);
  bind_opt(q, 2, row.worker_id);
  q.bind(3, row.job_id);
  q.bind(4, row.key);
  q.bind(5, epoch(row.created_at));
  q.bind(6, row.detail_json);
  q.exec();
  return db.getLastInsertRowid();
}

std::vector<JobIntent>
open_job_intents(SQLite::Database& db)
{
  SQLite::Statement q(db, "SELECT id, kind, job_id, worker_id, key, created_at, detail_json "
                          "FROM intents WHERE job_id IS NOT NULL AND confirmed_at IS NULL "
                          "ORDER BY id");
  std::vector<JobIntent> out;
  while (q.executeStep()) {
    JobIntent r;
    r.id = q.getColumn(0).getInt64();
    r.kind = q.getColumn(1).getString();
    r.job_id = q.getColumn(2).getInt64();
    r.worker_id = opt_i64(q.getColumn(3));
    r.key = q.getColumn(4).getString();
    r.created_at = instant(q.getColumn(5).getInt64());
    r.detail_json = q.getColumn(6).getString();
    out.push_back(std::move(r));
  }
  return out;
}

std::optional<std::vector<SlotRow>>
active_plan_slots_at(SQLite::Database& db, Instant at)
{
  SQLite::Statement p(db, "SELECT id FROM plans WHERE active = 1");
  if (!p.executeStep()) {
    return std::nullopt;
  }
  std::int64_t plan = p.getColumn(0).getInt64();
  SQLite::Statement q(db, "SELECT worker_id, start_at, end_at FROM plan_slots WHERE plan_id = ? "
                          "AND start_at <= ? AND end_at > ? ORDER BY start_at");
  q.bind(1, plan);
  q.bind(2, epoch(at));
  q.bind(3, epoch(at));
  std::vector<SlotRow> out;
  while (q.executeStep()) {
    out.push_back({q.getColumn(0).getInt64(), instant(q.getColumn(1).getInt64()),
                   instant(q.getColumn(2).getInt64())});
  }
  return out;
}

bool
event_since(SQLite::Database& db, const std::string& type, std::int64_t worker_id, Instant since)
{
  SQLite::Statement q(db, "SELECT 1 FROM events WHERE worker_id = ? AND type = ? AND at >= ? "
                          "LIMIT 1");
  q.bind(1, worker_id);
  q.bind(2, type);
  q.bind(3, epoch(since));
  return q.executeStep();
}

std::map<std::int64_t, Instant>
last_dispatched_all(SQLite::Database& db)
{
  SQLite::Statement q(db, "SELECT id, last_dispatched_at FROM workers "
                          "WHERE last_dispatched_at IS NOT NULL");
  std::map<std::int64_t, Instant> out;
  while (q.executeStep()) {
    out[q.getColumn(0).getInt64()] = instant(q.getColumn(1).getInt64());
  }
  return out;
}

void
delete_session(SQLite::Database& db, std::int64_t id)
{
  SQLite::Statement q(db, "DELETE FROM sessions WHERE id = ?");
  q.bind(1, id);
  q.exec();
}

} // namespace gpuctl::store
