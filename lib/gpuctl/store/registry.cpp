// SPDX-License-Identifier: MIT
#include "gpuctl/store/registry.hpp"

#include "gpuctl/core/error.hpp"

#include "gpuctl/store/columns.hpp"

#include <SQLiteCpp/Statement.h>

namespace gpuctl::store {

namespace {

constexpr const char* k_account_select =
    "SELECT a.id, a.name, a.provider, a.credentials_ref, a.policy_json, a.created_at, "
    "(SELECT count(*) FROM workers w WHERE w.account_id = a.id) FROM accounts a ";

AccountRow
read_account(SQLite::Statement& st)
{
  AccountRow r;
  r.id = st.getColumn(0).getInt64();
  r.name = st.getColumn(1).getString();
  r.provider = st.getColumn(2).getString();
  r.credentials_ref = opt_text(st.getColumn(3));
  r.policy_json = st.getColumn(4).getString();
  r.created_at = Instant{std::chrono::seconds{st.getColumn(5).getInt64()}};
  r.workers = st.getColumn(6).getInt();
  return r;
}

constexpr const char* k_worker_select =
    "SELECT w.id, w.name, w.account_id, a.name, w.provider, w.gpu, w.gpu_count, w.enabled, "
    "w.state, w.control, w.host, w.provider_ref, w.spec_json, w.price_usd_per_hour, w.gpu_util, "
    "w.last_seen_at, w.created_at FROM workers w JOIN accounts a ON a.id = w.account_id ";

WorkerRow
read_worker(SQLite::Statement& st)
{
  WorkerRow r;
  r.id = st.getColumn(0).getInt64();
  r.name = st.getColumn(1).getString();
  r.account_id = st.getColumn(2).getInt64();
  r.account = st.getColumn(3).getString();
  r.provider = st.getColumn(4).getString();
  r.gpu = st.getColumn(5).getString();
  r.gpu_count = st.getColumn(6).getInt();
  r.enabled = st.getColumn(7).getInt() != 0;
  r.state = st.getColumn(8).getString();
  r.control = st.getColumn(9).getString();
  r.host = opt_text(st.getColumn(10));
  r.provider_ref = opt_text(st.getColumn(11));
  r.spec_json = st.getColumn(12).getString();
  r.price_usd_per_hour = opt_double(st.getColumn(13));
  r.gpu_util = opt_double(st.getColumn(14));
  if (!st.getColumn(15).isNull()) {
    r.last_seen_at = Instant{std::chrono::seconds{st.getColumn(15).getInt64()}};
  }
  r.created_at = Instant{std::chrono::seconds{st.getColumn(16).getInt64()}};
  return r;
}

} // namespace

std::optional<AccountRow>
find_account(SQLite::Database& db, const std::string& name)
{
  SQLite::Statement st(db, std::string(k_account_select) + "WHERE a.name = ?");
  st.bind(1, name);
  if (st.executeStep()) {
    return read_account(st);
  }
  return std::nullopt;
}

AccountRow
require_account(SQLite::Database& db, const std::string& name)
{
  auto row = find_account(db, name);
  if (!row) {
    throw_usage("no account named '{}' (see 'gpuctl account list')", name);
  }
  return *row;
}

WorkerRow
require_worker(SQLite::Database& db, const std::string& name)
{
  auto row = find_worker(db, name);
  if (!row) {
    throw_usage("no worker named '{}' (see 'gpuctl worker list')", name);
  }
  return *row;
}

std::vector<AccountRow>
list_accounts(SQLite::Database& db)
{
  SQLite::Statement st(db, std::string(k_account_select) + "ORDER BY a.name");
  std::vector<AccountRow> out;
  while (st.executeStep()) {
    out.push_back(read_account(st));
  }
  return out;
}

std::int64_t
insert_account(SQLite::Database& db, const AccountRow& r)
{
  SQLite::Statement st(db, "INSERT INTO accounts(name, provider, credentials_ref, policy_json, "
                           "created_at) VALUES (?, ?, ?, ?, ?)");
  st.bind(1, r.name);
  st.bind(2, r.provider);
  bind_opt(st, 3, r.credentials_ref);
  st.bind(4, r.policy_json);
  st.bind(5, static_cast<std::int64_t>(r.created_at.time_since_epoch().count()));
  st.exec();
  return db.getLastInsertRowid();
}

void
update_account(SQLite::Database& db, const AccountRow& r)
{
  SQLite::Statement st(db, "UPDATE accounts SET credentials_ref = ?, policy_json = ? WHERE id = ?");
  bind_opt(st, 1, r.credentials_ref);
  st.bind(2, r.policy_json);
  st.bind(3, r.id);
  st.exec();
}

void
delete_account(SQLite::Database& db, std::int64_t id)
{
  SQLite::Statement st(db, "DELETE FROM accounts WHERE id = ?");
  st.bind(1, id);
  st.exec();
}

std::optional<WorkerRow>
find_worker(SQLite::Database& db, const std::string& name)
{
  SQLite::Statement st(db, std::string(k_worker_select) + "WHERE w.name = ?");
  st.bind(1, name);
  if (st.executeStep()) {
    return read_worker(st);
  }
  return std::nullopt;
}

std::vector<WorkerRow>
list_workers(SQLite::Database& db, const WorkerFilter& f)
{
  SQLite::Statement st(db, std::string(k_worker_select) +
                               "WHERE (?1 = '' OR a.name = ?1) AND (?2 = '' OR w.provider = ?2) "
                               "ORDER BY w.name");
  st.bind(1, f.account);
  st.bind(2, f.provider);
  std::vector<WorkerRow> out;
  while (st.executeStep()) {
    out.push_back(read_worker(st));
  }
  return out;
}

std::vector<std::string>
names(SQLite::Database& db, std::string_view table)
{
  if (table != "accounts" && table != "workers") {
    throw std::invalid_argument("names: no table " + std::string(table));
  }
  // ORDER BY name walks the UNIQUE index on name: no sort, and the rows are never read.
  SQLite::Statement st(db, "SELECT name FROM " + std::string(table) + " ORDER BY name");
  std::vector<std::string> out;
  while (st.executeStep()) {
    out.push_back(st.getColumn(0).getString());
  }
  return out;
}

std::int64_t
insert_worker(SQLite::Database& db, const WorkerRow& r)
{
  // Worker ids are never reused (migration 4's id_seq): a vast.ai label gpuctl:<id>:<gen> of a
  // removed worker's instance, still running, must never match a new worker's.
  SQLite::Statement next(db, "UPDATE id_seq SET last = last + 1 WHERE name = 'workers' RETURNING last");
  if (!next.executeStep()) {
    throw std::runtime_error("id_seq has no 'workers' row");
  }
  const std::int64_t id = next.getColumn(0).getInt64();
  next.reset();
  SQLite::Statement st(db, "INSERT INTO workers(name, account_id, provider, gpu, gpu_count, "
                           "enabled, state, control, host, provider_ref, spec_json, "
                           "price_usd_per_hour, created_at, id) "
                           "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  st.bind(1, r.name);
  st.bind(2, r.account_id);
  st.bind(3, r.provider);
  st.bind(4, r.gpu);
  st.bind(5, r.gpu_count);
  st.bind(6, r.enabled ? 1 : 0);
  st.bind(7, r.state);
  st.bind(8, r.control);
  bind_opt(st, 9, r.host);
  bind_opt(st, 10, r.provider_ref);
  st.bind(11, r.spec_json);
  bind_opt(st, 12, r.price_usd_per_hour);
  st.bind(13, static_cast<std::int64_t>(r.created_at.time_since_epoch().count()));
  st.bind(14, id);
  st.exec();
  return id;
}

void
set_worker_enabled(SQLite::Database& db, std::int64_t id, bool enabled)
{
  SQLite::Statement st(db, "UPDATE workers SET enabled = ? WHERE id = ?");
  st.bind(1, enabled ? 1 : 0);
  st.bind(2, id);
  st.exec();
}

void
set_worker_state(SQLite::Database& db, std::int64_t id, const std::string& state, Instant last_seen)
{
  SQLite::Statement st(db, "UPDATE workers SET state = ?, last_seen_at = MAX(COALESCE(last_seen_at, 0), ?) WHERE id = ?");
  st.bind(1, state);
  st.bind(2, static_cast<std::int64_t>(last_seen.time_since_epoch().count()));
  st.bind(3, id);
  st.exec();
}

void
delete_worker(SQLite::Database& db, std::int64_t id)
{
  SQLite::Statement st(db, "DELETE FROM workers WHERE id = ?");
  st.bind(1, id);
  st.exec();
}

int
delete_workers_of_account(SQLite::Database& db, std::int64_t account_id)
{
  SQLite::Statement st(db, "DELETE FROM workers WHERE account_id = ?");
  st.bind(1, account_id);
  return st.exec();
}

void
insert_event(SQLite::Database& db, Instant at, const std::string& type,
             std::optional<std::int64_t> worker_id, const std::string& reason,
             const std::string& detail_json)
{
  SQLite::Statement st(
      db, "INSERT INTO events(at, type, worker_id, reason, detail_json) VALUES (?, ?, ?, ?, ?)");
  st.bind(1, static_cast<std::int64_t>(at.time_since_epoch().count()));
  st.bind(2, type);
  bind_opt(st, 3, worker_id);
  st.bind(4, reason);
  st.bind(5, detail_json);
  st.exec();
}

} // namespace gpuctl::store
