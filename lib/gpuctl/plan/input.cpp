// SPDX-License-Identifier: MIT
#include "gpuctl/plan/input.hpp"

#include "gpuctl/core/error.hpp"
#include "gpuctl/core/time.hpp"
#include "gpuctl/quota/ledger.hpp"
#include "gpuctl/quota/policy.hpp"
#include "gpuctl/quota/service.hpp"
#include "gpuctl/store/registry.hpp"
#include "gpuctl/store/sessions.hpp"

#include <date/date.h>

#include <algorithm>

namespace gpuctl::plan {

PlanInput
plan_input(store::Database& db, const config::Config& cfg, Strategy strategy, Instant from,
           int days, int keep, const std::vector<std::string>& providers, Instant now)
{
  if (days < 1 || days > 28) {
    throw_usage("invalid --days {}: plan 1 to 28 days", days);
  }
  for (const auto& p : providers) {
    parse_provider(p);
  }
  if (strategy == Strategy::economy && keep < 1) {
    throw_usage("economy needs --keep N (GPUs to keep online), N ≥ 1");
  }
  // A plan starts sessions, and nobody can start one in the past (the planner would also take a
  // session running now for one running since --from).
  if (from + Seconds(60) <= now) {
    throw_usage("--from {} is in the past: a plan starts from now on (the default)",
                format_rfc3339(from));
  }
  PlanInput in;
  in.strategy = strategy;
  // Whole minutes: round --from up to the next minute.
  in.from = Instant{std::chrono::ceil<std::chrono::minutes>(from)};
  in.to = in.from + date::days(days);
  in.keep = keep;
  double safe = cfg.get_number("quota.safe_below");
  std::map<std::int64_t, std::vector<std::string>> workers;
  std::map<std::int64_t, double> top_price; // the dearest enabled worker's $/h, per account
  for (const auto& w : store::list_workers(db.sql())) {
    if (w.enabled) {
      workers[w.account_id].push_back(w.name);
      top_price[w.account_id] = std::max(top_price[w.account_id], w.price_usd_per_hour.value_or(0.0));
    }
  }
  // Recorded usage per window instance, summed in SQL for all accounts at once (instances are
  // shared by every account with the same reset).
  std::map<std::pair<std::int64_t, std::int64_t>, std::map<std::int64_t, std::int64_t>> usage;
  auto used_seconds = [&](std::int64_t account, Instant s, Instant e) -> std::int64_t {
    auto key = std::make_pair(s.time_since_epoch().count(), e.time_since_epoch().count());
    auto it = usage.find(key);
    if (it == usage.end()) {
      it = usage.emplace(key, store::usage_seconds_by_account(db.sql(), s, e, now)).first;
    }
    auto f = it->second.find(account);
    return f == it->second.end() ? 0 : f->second;
  };
  // Sessions running at --from become fixed slots until their deadline (DESIGN §6).
  std::map<std::int64_t, std::vector<quota::OpenSession>> running;
  for (auto& [id, o] : quota::open_session_deadlines(db, cfg, now)) {
    running[o.session.account_id].push_back(o);
  }
  for (const auto& row : store::list_accounts(db.sql())) {
    if (!providers.empty() &&
        std::find(providers.begin(), providers.end(), row.provider) == providers.end()) {
      continue;
    }
    Provider p = parse_provider(row.provider);
    quota::Policy pol =
        quota::effective_policy(p, quota::overrides_from_json_text(row.policy_json), cfg);
    PlanAccount a;
    a.name = row.name;
    a.provider = row.provider;
    a.workers = workers[row.id];
    a.concurrent = pol.concurrent ? std::min<int>(*pol.concurrent, static_cast<int>(a.workers.size()))
                                  : static_cast<int>(a.workers.size());
    if (pol.session_max) {
      a.cap = *pol.session_max - pol.shutdown_margin;
    }
    auto add_kind = [&](const char* kind, double budget_h, Instant first_start, Seconds period) {
      for (Instant s = first_start; s < in.to; s += period) {
        double used = s >= now ? 0.0 : quota::to_hours(used_seconds(row.id, s, s + period));
        a.windows.push_back({kind, s, s + period, std::max(0.0, budget_h * safe - used)});
      }
    };
    if (pol.weekly_gpu_hours > 0) {
      add_kind("weekly", pol.weekly_gpu_hours, quota::weekly_window_start(pol.week_reset, in.from),
               date::days(7));
    }
    if (pol.daily_gpu_hours > 0) {
      add_kind("daily", pol.daily_gpu_hours, quota::daily_window_start(pol.day_reset, in.from),
               date::days(1));
    }
    // vast: max_usd_per_day as a daily hour budget per UTC day, priced at the dearest worker
    // (so the plan never spends more), less what was already spent that day.
    if (p == Provider::vast && pol.max_usd_per_day > 0 && top_price[row.id] > 0) {
      double price = top_price[row.id];
      Instant first = Instant{std::chrono::floor<date::days>(in.from)};
      for (Instant s = first; s < in.to; s += date::days(1)) {
        double spent = s >= now ? 0.0 : store::spend_usd(db.sql(), row.id, s, s + date::days(1), now);
        a.windows.push_back({"usd", s, s + date::days(1), std::max(0.0, (pol.max_usd_per_day - spent) / price)});
      }
    }
    for (const auto& o : running[row.id]) {
      // Planned in whole minutes: a deadline of 13:02:45 holds the worker until 13:03, so the
      // next session there cannot start before it.
      Instant end = Instant{std::chrono::ceil<std::chrono::minutes>(o.deadline.value_or(in.to))};
      // Its hours from now until it ends are taken already, also where it ends before --from.
      for (auto& w : a.windows) {
        Instant lo = std::max(w.start, now), hi = std::min({w.end, end, in.to});
        if (hi > lo) {
          double h = std::chrono::duration<double>(hi - lo).count() / 3600.0;
          w.hours = std::max(0.0, w.hours - h);
        }
      }
      end = std::min(end, in.to);
      bool enabled = std::find(a.workers.begin(), a.workers.end(), o.session.worker) != a.workers.end();
      if (enabled && end > in.from) {
        a.fixed.push_back({o.session.worker, end});
      }
    }
    in.accounts.push_back(std::move(a));
  }
  return in;
}

} // namespace gpuctl::plan
