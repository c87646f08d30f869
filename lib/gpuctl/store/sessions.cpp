// SPDX-License-Identifier: MIT
#include "gpuctl/store/sessions.hpp"

#include "gpuctl/store/epoch.hpp"

#include <SQLiteCpp/Statement.h>

namespace gpuctl::store {

namespace {


constexpr const char* k_select =
    "SELECT s.id, s.worker_id, s.worker_name, s.account_id, a.name, s.started_at, s.ended_at, "
    "s.end_reason, s.price_usd_per_hour FROM sessions s JOIN accounts a ON a.id = s.account_id ";

// Sessions overlapping [:from, :to); an open session overlaps everything after its start.
constexpr const char* k_overlap =
    " s.started_at < :to AND (s.ended_at IS NULL OR s.ended_at > :from) ";

SessionRow
read(SQLite::Statement& st)
{
  SessionRow r;
  r.id = st.getColumn(0).getInt64();
  if (!st.getColumn(1).isNull()) {
    r.worker_id = st.getColumn(1).getInt64();
  }
  r.worker = st.getColumn(2).getString();
  r.account_id = st.getColumn(3).getInt64();
  r.account = st.getColumn(4).getString();
  r.started_at = instant(st.getColumn(5).getInt64());
  if (!st.getColumn(6).isNull()) {
    r.ended_at = instant(st.getColumn(6).getInt64());
  }
  if (!st.getColumn(7).isNull()) {
    r.end_reason = st.getColumn(7).getString();
  }
  if (!st.getColumn(8).isNull()) {
    r.price_usd_per_hour = st.getColumn(8).getDouble();
  }
  return r;
}

std::vector<SessionRow>
read_all(SQLite::Statement& st)
{
  std::vector<SessionRow> out;
  while (st.executeStep()) {
    out.push_back(read(st));
  }
  return out;
}

} // namespace

std::int64_t
insert_session(SQLite::Database& db, const SessionRow& r)
{
  SQLite::Statement st(db, "INSERT INTO sessions(worker_id, worker_name, account_id, started_at, "
                           "ended_at, end_reason, price_usd_per_hour) VALUES (?, ?, ?, ?, ?, ?, ?)");
  if (r.worker_id) {
    st.bind(1, *r.worker_id);
  }
  st.bind(2, r.worker);
  st.bind(3, r.account_id);
  st.bind(4, epoch(r.started_at));
  if (r.ended_at) {
    st.bind(5, epoch(*r.ended_at));
  }
  if (r.end_reason) {
    st.bind(6, *r.end_reason);
  }
  if (r.price_usd_per_hour) {
    st.bind(7, *r.price_usd_per_hour);
  }
  st.exec();
  return db.getLastInsertRowid();
}

void
close_session(SQLite::Database& db, std::int64_t id, Instant at, const std::string& reason)
{
  SQLite::Statement st(db, "UPDATE sessions SET ended_at = ?, end_reason = ? WHERE id = ? AND ended_at IS NULL");
  st.bind(1, epoch(at));
  st.bind(2, reason);
  st.bind(3, id);
  st.exec();
}

std::optional<SessionRow>
open_session_of_worker(SQLite::Database& db, std::int64_t worker_id)
{
  SQLite::Statement st(db, std::string(k_select) + "WHERE s.worker_id = ? AND s.ended_at IS NULL");
  st.bind(1, worker_id);
  if (st.executeStep()) {
    return read(st);
  }
  return std::nullopt;
}

std::vector<SessionRow>
open_sessions(SQLite::Database& db)
{
  SQLite::Statement st(db, std::string(k_select) + "WHERE s.ended_at IS NULL ORDER BY s.started_at, s.id");
  return read_all(st);
}

std::vector<SessionRow>
open_sessions_of_account(SQLite::Database& db, std::int64_t account_id)
{
  SQLite::Statement st(db, std::string(k_select) +
                               "WHERE s.account_id = ? AND s.ended_at IS NULL ORDER BY s.started_at, s.id");
  st.bind(1, account_id);
  return read_all(st);
}

std::vector<SessionRow>
sessions_overlapping(SQLite::Database& db, SessionsOf of, std::int64_t id, Instant from, Instant to)
{
  std::string where = of == SessionsOf::account ? "WHERE s.account_id = :id AND" : "WHERE s.worker_id = :id AND";
  SQLite::Statement st(db, std::string(k_select) + where + k_overlap + "ORDER BY s.started_at, s.id");
  st.bind(":id", id);
  st.bind(":from", epoch(from));
  st.bind(":to", epoch(to));
  return read_all(st);
}

std::vector<SessionRow>
list_sessions(SQLite::Database& db, const SessionFilter& f)
{
  SQLite::Statement st(db, std::string(k_select) +
                               "WHERE (:worker = '' OR s.worker_name = :worker) AND "
                               "(:since IS NULL OR s.ended_at IS NULL OR s.ended_at >= :since) "
                               "ORDER BY s.started_at DESC, s.id DESC");
  st.bind(":worker", f.worker);
  if (f.since) {
    st.bind(":since", epoch(*f.since));
  } else {
    st.bind(":since");
  }
  return read_all(st);
}

std::map<std::int64_t, std::int64_t>
usage_seconds_by_account(SQLite::Database& db, Instant start, Instant end, Instant now)
{
  // Two range scans of sessions_ended: sessions that ended after the window start, and open
  // ones (an OR of both would scan the whole table).
  SQLite::Statement st(
      db, "SELECT account_id, SUM(MAX(0, MIN(e, :now, :to) - MAX(started_at, :from))) FROM ("
          "  SELECT account_id, started_at, ended_at AS e FROM sessions "
          "  WHERE ended_at > :from AND started_at < :to "
          "  UNION ALL "
          "  SELECT account_id, started_at, :now AS e FROM sessions "
          "  WHERE ended_at IS NULL AND started_at < :to"
          ") GROUP BY account_id");
  st.bind(":from", epoch(start));
  st.bind(":to", epoch(end));
  st.bind(":now", epoch(now));
  std::map<std::int64_t, std::int64_t> out;
  while (st.executeStep()) {
    out[st.getColumn(0).getInt64()] = st.getColumn(1).getInt64();
  }
  return out;
}

namespace {

// GPU seconds and USD (Σ overlap × recorded $/h) of one account's sessions inside [start, end),
// open sessions counting up to `now`.
std::pair<std::int64_t, double>
account_usage(SQLite::Database& db, std::int64_t account_id, Instant start, Instant end, Instant now)
{
  SQLite::Statement st(
      db, "SELECT COALESCE(SUM(o), 0), COALESCE(SUM(o * COALESCE(price_usd_per_hour, 0)), 0) / 3600.0 "
          "FROM (SELECT MAX(0, MIN(COALESCE(ended_at, :now), :now, :to) - MAX(started_at, :from)) AS o, "
          "price_usd_per_hour FROM sessions WHERE account_id = :account AND started_at < :to AND "
          "(ended_at > :from OR ended_at IS NULL))");
  st.bind(":account", account_id);
  st.bind(":from", epoch(start));
  st.bind(":to", epoch(end));
  st.bind(":now", epoch(now));
  st.executeStep();
  return {st.getColumn(0).getInt64(), st.getColumn(1).getDouble()};
}

} // namespace

std::int64_t
usage_seconds(SQLite::Database& db, std::int64_t account_id, Instant start, Instant end, Instant now)
{
  return account_usage(db, account_id, start, end, now).first;
}

std::map<std::int64_t, double>
adjustment_hours_by_account(SQLite::Database& db, const std::string& kind, Instant start, Instant end)
{
  SQLite::Statement st(db, "SELECT account_id, SUM(hours) FROM adjustments WHERE window = ? AND "
                           "at >= ? AND at < ? GROUP BY account_id");
  st.bind(1, kind);
  st.bind(2, epoch(start));
  st.bind(3, epoch(end));
  std::map<std::int64_t, double> out;
  while (st.executeStep()) {
    out[st.getColumn(0).getInt64()] = st.getColumn(1).getDouble();
  }
  return out;
}

double
spend_usd(SQLite::Database& db, std::int64_t account_id, Instant start, Instant end, Instant now)
{
  return account_usage(db, account_id, start, end, now).second;
}

} // namespace gpuctl::store
