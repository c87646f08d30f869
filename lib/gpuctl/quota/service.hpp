// SPDX-License-Identifier: MIT
// The quota ledger service (DESIGN §5): per-account usage, shares, status and session deadlines
// read from the store; and the session commands that write the ledger. Nothing here prints.
#pragma once
#include "gpuctl/config/config.hpp"
#include "gpuctl/core/clock.hpp"
#include "gpuctl/core/names.hpp"
#include "gpuctl/quota/ledger.hpp"
#include "gpuctl/quota/policy.hpp"
#include "gpuctl/store/database.hpp"
#include "gpuctl/store/registry.hpp"
#include "gpuctl/store/sessions.hpp"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace gpuctl::quota {

/// An open session with its deadline.
struct OpenSession {
  store::SessionRow session;
  std::optional<Instant> deadline;     ///< nullopt: no cap and no budget
  std::optional<Seconds> left;         ///< deadline − now (negative once past)
  std::optional<std::string> warning;  ///< "1h" | "30m" | "past"
};

/// vast.ai money accounting for one UTC day (DESIGN §4 providers.vast.max_usd_per_day).
struct Spend {
  Instant day_start{};
  Instant day_end{};
  double usd = 0;            ///< Σ session overlap × recorded $/h
  double max_usd_per_day = 0; ///< 0 = no limit
};

/// Everything `gpuctl quota` shows for one account.
struct AccountQuota {
  store::AccountRow account;
  Provider provider = Provider::kaggle;
  Policy policy;
  std::vector<WindowUsage> windows;     ///< weekly first, then daily
  std::optional<double> share;          ///< the binding window's share; nullopt = no budget
  std::optional<std::string> binding;   ///< "weekly" | "daily"
  std::string status = "safe";          ///< safe | warning | critical | exhausted
  std::optional<double> left_h;         ///< the binding window's hours left
  std::optional<double> usable_h;       ///< hours until safe_below in every window (≥ 0)
  std::optional<Instant> next_reset;    ///< the earliest window end
  std::optional<Spend> spend;           ///< vast accounts
  std::vector<OpenSession> sessions;    ///< open sessions, oldest first
  bool estimated = false;               ///< colab: Google publishes no numbers
};

/// Quotas of every account (or of `only` when set; Error(usage) when unknown), by name.
/// Usage is summed in SQL per distinct window, never by loading sessions.
std::vector<AccountQuota> compute_quotas(store::Database& db, const config::Config& cfg,
                                         Instant now, const std::string& only = {});

/// Deadlines of every open session, by session id (for worker and session views).
std::map<std::int64_t, OpenSession> open_session_deadlines(store::Database& db,
                                                           const config::Config& cfg, Instant now);

/// A session as listed.
struct SessionView {
  store::SessionRow session;
  std::optional<Instant> deadline; ///< open sessions only
};

/// Opens a session on `worker` at `at` (≤ now). Refused with Error(conflict), naming the session
/// in the way, when the worker already has an open session or one overlapping `at`, or when the
/// account would run more than `concurrent` sessions at once; Error(usage) for an unknown worker,
/// a disabled one or a time in the future. Marks the worker online.
store::SessionRow start_session(store::Database& db, const config::Config& cfg,
                                const std::string& worker, Instant at, Instant now);

/// Closes the worker's open session at `at` (start ≤ at ≤ now) with `reason`; Error(conflict)
/// when none is open. Marks the worker offline.
store::SessionRow stop_session(store::Database& db, const std::string& worker, Instant at,
                               const std::string& reason, Instant now);

/// Records a past session [start, end] (end ≤ now, start ≤ end) on `worker`, with the same
/// refusals as start_session over that interval.
store::SessionRow add_session(store::Database& db, const config::Config& cfg,
                              const std::string& worker, Instant start, Instant end, Instant now);

/// Sessions newest first; open ones with their deadline. Error(usage) for an unknown worker.
std::vector<SessionView> list_sessions(store::Database& db, const config::Config& cfg,
                                       const store::SessionFilter& f, Instant now);

} // namespace gpuctl::quota
