// SPDX-License-Identifier: MIT
// Repository of GPU sessions and adjustments (the quota ledger's raw data, DESIGN §3). All
// instants are UTC epoch seconds; the caller owns the transaction.
#pragma once
#include "gpuctl/core/clock.hpp"

#include <SQLiteCpp/Database.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace gpuctl::store {

/// A row of `sessions`, with its account's and worker's names.
struct SessionRow {
  std::int64_t id = 0;
  std::optional<std::int64_t> worker_id; ///< null once the worker was removed
  std::string worker;                    ///< name at the time it ran
  std::int64_t account_id = 0;
  std::string account;
  Instant started_at{};
  std::optional<Instant> ended_at; ///< null = still open
  std::optional<std::string> end_reason;
  std::optional<double> price_usd_per_hour;
};

/// Inserts a session and returns its id.
std::int64_t insert_session(SQLite::Database& db, const SessionRow& row);
/// Closes an open session.
void close_session(SQLite::Database& db, std::int64_t id, Instant at, const std::string& reason);
/// The open session of a worker, if any.
std::optional<SessionRow> open_session_of_worker(SQLite::Database& db, std::int64_t worker_id);
/// Every open session, oldest first.
std::vector<SessionRow> open_sessions(SQLite::Database& db);
/// Open sessions of one account, oldest first.
std::vector<SessionRow> open_sessions_of_account(SQLite::Database& db, std::int64_t account_id);

/// Whose sessions a query returns.
enum class SessionsOf { account, worker };

/// Sessions of the account or worker `id` that overlap [from, to); an open session overlaps
/// everything after its start.
std::vector<SessionRow> sessions_overlapping(SQLite::Database& db, SessionsOf of, std::int64_t id,
                                             Instant from, Instant to);

/// Filters for list_sessions.
struct SessionFilter {
  std::string worker;            ///< "" = any
  std::optional<Instant> since;  ///< sessions still running at or after it
};
/// Sessions newest first.
std::vector<SessionRow> list_sessions(SQLite::Database& db, const SessionFilter& f);

/// Seconds of GPU time per account inside [start, end): the overlap of every session with the
/// window, open sessions counting up to `now`. Summed in SQL over the indexed columns; accounts
/// without usage are absent.
std::map<std::int64_t, std::int64_t> usage_seconds_by_account(SQLite::Database& db, Instant start,
                                                              Instant end, Instant now);
/// The same for one account.
std::int64_t usage_seconds(SQLite::Database& db, std::int64_t account_id, Instant start,
                           Instant end, Instant now);

/// Hours of adjustments per account with `at` in [start, end) for windows of `kind`
/// ("weekly" | "daily").
std::map<std::int64_t, double> adjustment_hours_by_account(SQLite::Database& db,
                                                           const std::string& kind, Instant start,
                                                           Instant end);

/// USD spent by an account in [start, end): Σ overlap hours × the session's recorded $/h.
double spend_usd(SQLite::Database& db, std::int64_t account_id, Instant start, Instant end,
                 Instant now);

} // namespace gpuctl::store
