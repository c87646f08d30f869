// SPDX-License-Identifier: MIT
#include "gpuctl/store/provider_state.hpp"

#include "gpuctl/store/epoch.hpp"

#include <SQLiteCpp/Statement.h>

#include <algorithm>

namespace gpuctl::store {

std::int64_t
insert_intent(SQLite::Database& db, const IntentRow& row)
{
  SQLite::Statement q(db, "INSERT INTO intents(kind, worker_id, key, created_at, detail_json) "
                          "VALUES (?, ?, ?, ?, ?)");
  q.bind(1, row.kind);
  if (row.worker_id) {
    q.bind(2, *row.worker_id);
  }
  q.bind(3, row.key);
  q.bind(4, epoch(row.created_at));
  q.bind(5, row.detail_json);
  q.exec();
  return db.getLastInsertRowid();
}

void
confirm_intent(SQLite::Database& db, std::int64_t id, Instant at,
               const std::optional<std::string>& detail_json)
{
  SQLite::Statement q(db, "UPDATE intents SET confirmed_at = ?, "
                          "detail_json = COALESCE(?, detail_json) WHERE id = ?");
  q.bind(1, epoch(at));
  if (detail_json) {
    q.bind(2, *detail_json);
  }
  q.bind(3, id);
  q.exec();
}

std::vector<IntentRow>
open_intents_of_worker(SQLite::Database& db, std::int64_t worker_id)
{
  SQLite::Statement q(db, "SELECT id, kind, worker_id, key, created_at, detail_json FROM intents "
                          "WHERE worker_id = ? AND confirmed_at IS NULL ORDER BY id");
  q.bind(1, worker_id);
  std::vector<IntentRow> out;
  while (q.executeStep()) {
    IntentRow r;
    r.id = q.getColumn(0).getInt64();
    r.kind = q.getColumn(1).getString();
    r.worker_id = q.getColumn(2).getInt64();
    r.key = q.getColumn(3).getString();
    r.created_at = instant(q.getColumn(4).getInt64());
    r.detail_json = q.getColumn(5).getString();
    out.push_back(std::move(r));
  }
  return out;
}

std::map<std::int64_t, std::vector<IntentRow>>
open_intents_by_worker(SQLite::Database& db)
{
  SQLite::Statement q(db, "SELECT id, kind, worker_id, key, created_at, detail_json FROM intents "
                          "WHERE worker_id IS NOT NULL AND confirmed_at IS NULL ORDER BY id");
  std::map<std::int64_t, std::vector<IntentRow>> out;
  while (q.executeStep()) {
    IntentRow r;
    r.id = q.getColumn(0).getInt64();
    r.kind = q.getColumn(1).getString();
    r.worker_id = q.getColumn(2).getInt64();
    r.key = q.getColumn(3).getString();
    r.created_at = instant(q.getColumn(4).getInt64());
    r.detail_json = q.getColumn(5).getString();
    out[*r.worker_id].push_back(std::move(r));
  }
  return out;
}

void
observe_worker(SQLite::Database& db, std::int64_t worker_id, const WorkerObservation& o)
{
  SQLite::Statement q(db, "UPDATE workers SET state = ?, "
                          "price_usd_per_hour = COALESCE(?, price_usd_per_hour), gpu_util = ?, "
                          "last_seen_at = ?, host = COALESCE(?, host) WHERE id = ?");
  q.bind(1, o.state);
  if (o.price_usd_per_hour) {
    q.bind(2, *o.price_usd_per_hour);
  }
  if (o.gpu_util) {
    q.bind(3, *o.gpu_util);
  }
  q.bind(4, epoch(o.seen_at));
  if (o.host) {
    q.bind(5, *o.host);
  }
  q.bind(6, worker_id);
  q.exec();
}

void
detach_instance(SQLite::Database& db, std::int64_t worker_id, const std::string& gpu,
                double price_usd_per_hour)
{
  SQLite::Statement q(db, "UPDATE workers SET provider_ref = NULL, host = NULL, state = 'starting', "
                          "gpu = ?, price_usd_per_hour = ? WHERE id = ?");
  q.bind(1, gpu);
  q.bind(2, price_usd_per_hour);
  q.bind(3, worker_id);
  q.exec();
}

void
set_worker_instance(SQLite::Database& db, std::int64_t worker_id, const std::string& ref)
{
  SQLite::Statement q(db, "UPDATE workers SET provider_ref = ? WHERE id = ?");
  q.bind(1, ref);
  q.bind(2, worker_id);
  q.exec();
}

void
set_worker_spec(SQLite::Database& db, std::int64_t worker_id, const std::string& spec_json)
{
  SQLite::Statement q(db, "UPDATE workers SET spec_json = ? WHERE id = ?");
  q.bind(1, spec_json);
  q.bind(2, worker_id);
  q.exec();
}

std::int64_t
reserve_api_call(SQLite::Database& db, const std::string& provider, const std::string& endpoint,
                 const std::string& key_id, std::int64_t gap_ms, std::int64_t now_ms)
{
  SQLite::Statement get(db, "SELECT last_at_ms FROM api_calls "
                            "WHERE provider = ? AND endpoint = ? AND key_id = ?");
  get.bind(1, provider);
  get.bind(2, endpoint);
  get.bind(3, key_id);
  std::int64_t slot = now_ms;
  if (get.executeStep()) {
    slot = std::max(now_ms, get.getColumn(0).getInt64() + gap_ms);
  }
  SQLite::Statement put(db, "INSERT INTO api_calls(provider, endpoint, key_id, last_at_ms) "
                            "VALUES (?, ?, ?, ?) ON CONFLICT(provider, endpoint, key_id) "
                            "DO UPDATE SET last_at_ms = excluded.last_at_ms");
  put.bind(1, provider);
  put.bind(2, endpoint);
  put.bind(3, key_id);
  put.bind(4, slot);
  put.exec();
  return slot - now_ms;
}

} // namespace gpuctl::store

namespace gpuctl::store {

void
insert_adjustment(SQLite::Database& db, std::int64_t account_id, Instant at,
                  const std::string& window, double hours, const std::string& reason)
{
  SQLite::Statement q(db, "INSERT INTO adjustments(account_id, at, window, hours, reason) "
                          "VALUES (?, ?, ?, ?, ?)");
  q.bind(1, account_id);
  q.bind(2, epoch(at));
  q.bind(3, window);
  q.bind(4, hours);
  q.bind(5, reason);
  q.exec();
}

std::optional<std::int64_t>
worker_of_instance(SQLite::Database& db, const std::string& instance_id)
{
  SQLite::Statement q(db, "SELECT id FROM workers WHERE provider = 'vast' AND provider_ref = ? "
                          "AND state != 'deleted'");
  q.bind(1, instance_id);
  if (q.executeStep()) {
    return q.getColumn(0).getInt64();
  }
  return std::nullopt;
}

} // namespace gpuctl::store
