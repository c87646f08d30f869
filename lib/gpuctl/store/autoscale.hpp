// SPDX-License-Identifier: MIT
// Repositories of the autoscaling tables (migration 7, DESIGN §3): the machines the autoscaler has
// brought into the Dask cluster and the loop's own state. The caller owns the transaction.
#pragma once
#include "gpuctl/core/clock.hpp"

#include <SQLiteCpp/Database.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace gpuctl::store {

/// A machine the autoscaler started for Dask (a row exists from its start until it is hibernated
/// or, for an ssh box, handed back).
struct MemberRow {
  std::int64_t worker_id = 0;
  std::string source;                 ///< rented | woken | ssh
  std::string prev_control = "manual"; ///< ssh: the control to restore when it is handed back
  Instant booted_at{};                ///< when gpuctl started it (the boot timeout counts from here)
  std::optional<Instant> joined_at;   ///< first seen in get_workers since booted_at
  std::optional<std::string> address; ///< its Dask contact address once joined
  std::optional<std::string> job_key; ///< ssh: the remote job running its dask worker
  /// A retire_workers call for it whose answer was lost (a 500, a timeout): settled by the next
  /// get_workers (gone = retired, listed = not).
  std::optional<Instant> retire_asked_at;
};

std::vector<MemberRow> list_members(SQLite::Database& db);
/// Inserts or replaces the row.
void save_member(SQLite::Database& db, const MemberRow& row);
void delete_member(SQLite::Database& db, std::int64_t worker_id);

/// The loop's state (one row).
struct AutoscaleState {
  std::optional<Instant> low_since;    ///< demand below the machines gpuctl runs since then
  std::optional<Instant> last_tick_at;
  int boot_failures = 0;               ///< machines in a row that never joined Dask
  std::optional<Instant> hold_until;   ///< no machine is started before then
  std::string last_refusal;            ///< the last refusal recorded as an event ("" = none)
};
AutoscaleState autoscale_state(SQLite::Database& db);
void save_autoscale_state(SQLite::Database& db, const AutoscaleState& s);

/// Sets who may start and stop a worker: manual | plan | autoscale (DESIGN §3).
void set_worker_control(SQLite::Database& db, std::int64_t worker_id, const std::string& control);

} // namespace gpuctl::store
