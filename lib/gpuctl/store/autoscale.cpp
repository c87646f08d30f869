// SPDX-License-Identifier: MIT
#include "gpuctl/store/autoscale.hpp"

#include "gpuctl/store/columns.hpp"

#include <SQLiteCpp/Statement.h>

namespace gpuctl::store {

namespace {

constexpr const char* k_member_cols =
    "worker_id, source, prev_control, booted_at, joined_at, address, job_key, retire_asked_at";

MemberRow
member_from(SQLite::Statement& st)
{
  MemberRow m;
  m.worker_id = st.getColumn(0).getInt64();
  m.source = st.getColumn(1).getString();
  m.prev_control = st.getColumn(2).getString();
  m.booted_at = instant(st.getColumn(3).getInt64());
  m.joined_at = opt_instant(st.getColumn(4));
  m.address = opt_text(st.getColumn(5));
  m.job_key = opt_text(st.getColumn(6));
  m.retire_asked_at = opt_instant(st.getColumn(7));
  return m;
}

} // namespace

std::vector<MemberRow>
list_members(SQLite::Database& db)
{
  SQLite::Statement st(db, std::string("SELECT ") + k_member_cols +
                               " FROM autoscale_members ORDER BY worker_id");
  std::vector<MemberRow> out;
  while (st.executeStep()) {
    out.push_back(member_from(st));
  }
  return out;
}

void
save_member(SQLite::Database& db, const MemberRow& m)
{
  SQLite::Statement st(db, std::string("INSERT OR REPLACE INTO autoscale_members(") +
                               k_member_cols + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
  st.bind(1, m.worker_id);
  st.bind(2, m.source);
  st.bind(3, m.prev_control);
  st.bind(4, epoch(m.booted_at));
  bind_opt(st, 5, m.joined_at);
  bind_opt(st, 6, m.address);
  bind_opt(st, 7, m.job_key);
  bind_opt(st, 8, m.retire_asked_at);
  st.exec();
}

void
delete_member(SQLite::Database& db, std::int64_t worker_id)
{
  SQLite::Statement st(db, "DELETE FROM autoscale_members WHERE worker_id = ?");
  st.bind(1, worker_id);
  st.exec();
}

AutoscaleState
autoscale_state(SQLite::Database& db)
{
  SQLite::Statement st(db, "SELECT low_since, last_tick_at, boot_failures, hold_until, "
                           "last_refusal FROM autoscale_state WHERE id = 1");
  AutoscaleState s;
  if (st.executeStep()) {
    s.low_since = opt_instant(st.getColumn(0));
    s.last_tick_at = opt_instant(st.getColumn(1));
    s.boot_failures = st.getColumn(2).getInt();
    s.hold_until = opt_instant(st.getColumn(3));
    s.last_refusal = opt_text(st.getColumn(4)).value_or("");
  }
  return s;
}

void
save_autoscale_state(SQLite::Database& db, const AutoscaleState& s)
{
  SQLite::Statement st(db, "INSERT OR REPLACE INTO autoscale_state(id, low_since, last_tick_at, "
                           "boot_failures, hold_until, last_refusal) VALUES (1, ?, ?, ?, ?, ?)");
  bind_opt(st, 1, s.low_since);
  bind_opt(st, 2, s.last_tick_at);
  st.bind(3, s.boot_failures);
  bind_opt(st, 4, s.hold_until);
  st.bind(5, s.last_refusal);
  st.exec();
}

void
set_worker_control(SQLite::Database& db, std::int64_t worker_id, const std::string& control)
{
  SQLite::Statement st(db, "UPDATE workers SET control = ? WHERE id = ?");
  st.bind(1, control);
  st.bind(2, worker_id);
  st.exec();
}

} // namespace gpuctl::store
