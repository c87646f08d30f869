// SPDX-License-Identifier: MIT
// Provider operations that combine the state file with the provider clients (DESIGN §2, §3, §8):
// renting, syncing, starting/stopping/destroying vast.ai instances, checking credentials and
// reconciling Kaggle's quota. Every call that creates or changes something at a provider is
// bracketed by an intent and its confirmation; no network call runs inside a DB transaction.
// Nothing here prints: results are values, warnings are returned for the caller to show.
#pragma once
#include "gpuctl/config/config.hpp"
#include "gpuctl/core/clock.hpp"
#include "gpuctl/net/caller.hpp"
#include "gpuctl/providers/credentials.hpp"
#include "gpuctl/providers/kaggle/client.hpp"
#include "gpuctl/providers/vast/client.hpp"
#include "gpuctl/store/database.hpp"
#include "gpuctl/store/registry.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace gpuctl::cloud {

/// What provider operations run with, built once per process by the command.
struct Env {
  net::Caller& caller;
  net::Sleeper& sleeper;
  const config::Config& cfg;
  providers::EnvLookup env;
  const Clock& clock;
  std::vector<std::string> warnings; ///< for the user (credentials file modes, …)
};

/// The secret of `account`: its --credentials file, else the provider's standard variables and
/// files — but only when it is the provider's one account without a file, so two accounts never
/// silently share one identity (Error(usage) naming them otherwise).
providers::Secret account_secret(store::Database& db, Env& e, const store::AccountRow& account);

/// Clients for an account (Error(usage) when the account has another provider).
providers::vast::Client vast_client(store::Database& db, Env& e, const store::AccountRow& account);
/// A vast client on the standard VAST_API_KEY / key files, for commands run before any vast
/// account is registered (offers search). Error(usage) when no key is found.
providers::vast::Client vast_client_standard(Env& e);
providers::kaggle::Client kaggle_client(store::Database& db, Env& e,
                                        const store::AccountRow& account);

/// The vast account to use: `name` when given, else the only vast account; nullopt when there is
/// none (then the standard VAST_API_KEY / key files are used). Error(usage) when several exist
/// and none is named.
std::optional<store::AccountRow> pick_vast_account(store::Database& db, const std::string& name);

/// `gpuctl offers search`.
std::vector<providers::vast::Offer> search_offers(store::Database& db, Env& e,
                                                  const std::string& account,
                                                  const providers::vast::OfferQuery& q);

/// `gpuctl offers rent` input.
struct RentRequest {
  std::int64_t offer_id = 0;
  std::string worker;
  std::string account;
  std::string image;
  double disk_gb = 16;
  std::string onstart;                    ///< script text
  std::map<std::string, std::string> env;
  std::optional<double> max_price;        ///< USD/h
  std::string control = "manual";         ///< who may start and stop it (DESIGN §3)
};
struct RentResult {
  store::WorkerRow worker;
  std::int64_t instance_id = 0;
  double price_usd_per_hour = 0;
  bool resumed = false; ///< an earlier, interrupted rent was completed (nothing new rented)
  bool unchanged = false; ///< already rented by an earlier run: nothing done
};
/// Rents offer `offer_id` as worker `worker` (exactly once, DESIGN §7): records the worker and a
/// rent intent first, creates the instance with label gpuctl:<worker id>:1, then records the
/// instance and opens its session. A rerun after a crash finds the instance by its label instead
/// of renting another. Refused with Error(conflict) when the offer is gone or dearer than
/// max_price, when `max_usd_per_day` would be exceeded (today's spend + the price until the end
/// of the UTC day), or when the worker exists for something else.
RentResult rent(store::Database& db, Env& e, const RentRequest& r);

/// Today's (UTC) spend of a vast account plus `extra_usd_per_hour` until the end of the day,
/// against its max_usd_per_day; Error(conflict) when that exceeds the limit (0 = no limit).
void check_daily_budget(store::Database& db, Env& e, const store::AccountRow& account,
                        double extra_usd_per_hour, const std::string& what);

/// An instance the listing showed that no worker holds.
struct Unmanaged {
  std::string account;
  std::int64_t instance_id = 0;
  std::string label;
  std::string gpu;
  std::string state;
  std::optional<std::string> adopted_as; ///< the worker it became with --adopt
};
struct SyncReport {
  struct Account {
    std::string name;
    int instances = 0;
    int pages = 0;
    std::optional<std::string> error; ///< the listing failed: nothing was decided for it
  };
  std::vector<Account> accounts;
  std::vector<std::string> updated;   ///< workers whose state/price/util were refreshed
  std::vector<std::string> completed; ///< interrupted rents completed from the listing
  std::vector<Unmanaged> unmanaged;
  std::vector<std::string> vanished;  ///< workers whose instance is gone (confirmed by show)
};
/// `gpuctl worker sync`: one paginated listing per vast account (or only `account`). Decides only
/// from complete listings: an instance missing from one is confirmed gone by one show call before
/// its worker is marked deleted. Sessions follow the instances (running → open, stopped → closed).
/// `adopt` registers unmanaged instances as workers (named after their label when that is a free,
/// valid name, else vast-<id>).
SyncReport sync_workers(store::Database& db, Env& e, const std::string& account, bool adopt);

/// `gpuctl worker start|stop|destroy` for a vast worker; returns the updated worker.
/// Error(usage) for a worker that is not vast or has no instance; start is refused by the daily
/// budget like rent. destroy verifies with a show call that the instance is gone.
store::WorkerRow start_worker(store::Database& db, Env& e, const std::string& name);
/// stop closes the worker's open session with `reason` ("stopped" by hand, "auto-shutdown" when the
/// scheduler enforces a deadline).
store::WorkerRow stop_worker(store::Database& db, Env& e, const std::string& name,
                             const std::string& reason = "stopped");
store::WorkerRow destroy_worker(store::Database& db, Env& e, const std::string& name);

/// `gpuctl account check`: one authenticated call per account.
struct CheckResult {
  std::string account;
  std::string provider;
  bool ok = false;
  std::string detail; ///< who the provider says we are, or why it failed (no secret)
  std::string credentials; ///< where they came from ("file", "env") — never the secret
};
/// Checks `name` (or every kaggle and vast account when empty). Provider errors are caught into
/// the result; Error(usage) for an unknown account or one without an API (colab, ssh).
std::vector<CheckResult> check_accounts(store::Database& db, Env& e, const std::string& name);

/// `gpuctl quota --sync`: per Kaggle account, Kaggle's own figure and the adjustment made.
struct QuotaSync {
  std::string account;
  double ledger_used_h = 0;   ///< gpuctl's weekly usage before the sync
  double provider_used_h = 0; ///< timeUsed + timeReserved
  double adjustment_h = 0;    ///< added to the ledger (provider − ledger)
  double provider_total_h = 0; ///< Kaggle's allowance this week
  std::optional<Instant> refresh;
};
/// Reads GetAcceleratorQuotaStatistics for `name` (or every Kaggle account) and records one
/// adjustment in the current weekly window so `quota` shows Kaggle's used hours, with an event
/// `quota-sync` giving both figures. Error(usage) for a non-Kaggle account named explicitly.
std::vector<QuotaSync> sync_quota(store::Database& db, Env& e, const std::string& name);

} // namespace gpuctl::cloud

namespace gpuctl::cloud {

/// What `gpuctl wake` may change when it has to rent again.
struct RerentOptions {
  std::optional<std::string> gpu;    ///< model; default the saved one
  std::optional<std::string> region; ///< two-letter country code; default the saved one
  std::optional<double> max_price;   ///< USD/h; default the saved max
  bool destroy_old = false;          ///< destroy the old instance (its disk is lost)
  std::string extra_onstart;         ///< appended to the saved onstart (the idle watchdog)
};
struct RerentResult {
  store::WorkerRow worker;
  std::int64_t offer_id = 0;
  std::int64_t old_instance = 0;  ///< 0 when the worker had none
  std::int64_t new_instance = 0;
  double price_usd_per_hour = 0;
  bool old_destroyed = false;
};
/// Rents the cheapest offer matching the worker's saved spec and `o` (same GPU model, at least
/// the GPU count, the disk, at least the saved reliability, the region when `o.region` is given,
/// at most the saved max $/h: the rent's --max-price, else the price it was rented at), creates the instance with the same image/disk/onstart/env and the next label generation
/// (exactly once, like rent), and re-points the worker. The old instance is left as it is unless
/// `destroy_old`. Error(conflict) when no offer matches or max_usd_per_day would be exceeded.
RerentResult rerent(store::Database& db, Env& e, const std::string& name, const RerentOptions& o);

/// `offers rent --wait`: polls the worker's instance (show call every 5 s through the sleeper)
/// until it runs, up to `[providers.vast] start_timeout`; updates the worker's state. Throws
/// Error(failure) naming the instance's status when it is not running by then.
store::WorkerRow wait_until_online(store::Database& db, Env& e, const std::string& name);

} // namespace gpuctl::cloud
