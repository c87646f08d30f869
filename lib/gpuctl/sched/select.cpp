// SPDX-License-Identifier: MIT
#include "gpuctl/sched/select.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <string_view>
#include <tuple>

namespace gpuctl::sched {

namespace {

/// GPU model names as people write them: "RTX_4090" (a shell-friendly spelling, as in `worker add
/// --gpu RTX_4090`), "RTX 4090" (vast.ai's, stored for rented and adopted workers) and
/// "rtx 4090" are one model.
bool
same_gpu(std::string_view a, std::string_view b)
{
  auto norm = [](char c) {
    return c == '_' ? ' ' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  };
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                            [&](char x, char y) { return norm(x) == norm(y); });
}

} // namespace

namespace {

/// Reasons a worker is not a candidate, in the order `why` lists them.
enum Reason {
  r_disabled,
  r_offline,
  r_busy,
  r_cannot_run,
  r_outside_slot,
  r_concurrent,
  r_warning,
  r_critical,
  r_exhausted,
  r_no_time,
  r_count
};

const char* k_reason_text[r_count] = {"disabled",
                                      "offline",
                                      "busy",
                                      "whose provider cannot run this job",
                                      "outside their planned slots",
                                      "with no free session slot on their account",
                                      "at warning",
                                      "at critical",
                                      "at exhausted",
                                      "with no time left before their account's deadline"};

Reason
band(double share, const AccountLoad& a)
{
  if (share >= 1.0) {
    return r_exhausted;
  }
  if (share >= a.critical_above) {
    return r_critical;
  }
  return r_warning;
}

/// Seconds a new session on `a` may run from `now` (cap, budget, margin); nullopt = unbounded.
std::optional<std::int64_t>
session_time_left(const AccountLoad& a, Instant now)
{
  auto runout = quota::budget_runout(a.windows, a.open_sessions + 1, now);
  auto deadline = quota::session_deadline(a.policy, now, runout);
  if (!deadline) {
    return std::nullopt;
  }
  return (*deadline - now).count();
}

} // namespace

double
projected_share(const AccountLoad& a)
{
  double share = 0;
  for (const auto& w : a.windows) {
    if (w.window.budget_h > 0) {
      share = std::max(share, (w.used_h + a.committed_h) / w.window.budget_h);
    } else {
      share = std::max(share, a.committed_h + w.used_h > 0 ? 1.0 : 0.0);
    }
  }
  return share;
}

Selection
select(const std::vector<JobNeed>& jobs, std::vector<WorkerView> workers,
       std::map<std::int64_t, AccountLoad> accounts, Instant now, bool explain)
{
  Selection out;
  std::size_t free_workers = 0;
  for (const auto& w : workers) {
    free_workers += (w.enabled && w.online && !w.busy) ? 1 : 0;
  }
  // Per account, computed once and refreshed after each assignment to it.
  struct AccountState {
    double share = 0;
    std::optional<Reason> refusal; ///< concurrent / band / no time
    std::optional<std::int64_t> time_left;
  };
  std::map<std::int64_t, AccountState> states;
  auto evaluate = [&](const AccountLoad& a) {
    AccountState s;
    s.share = projected_share(a);
    if (a.session_per_job && a.policy.concurrent && a.open_sessions >= *a.policy.concurrent) {
      s.refusal = r_concurrent;
    } else if (s.share >= a.safe_below) {
      s.refusal = band(s.share, a);
    } else if (a.money_status != "safe") {
      s.refusal = a.money_status == "exhausted" ? r_exhausted
                  : a.money_status == "critical" ? r_critical
                                                 : r_warning;
    } else if (a.session_per_job) {
      s.time_left = session_time_left(a, now);
      if (s.time_left && *s.time_left < 60) {
        s.refusal = r_no_time;
      }
    }
    return s;
  };
  for (const auto& [id, a] : accounts) {
    states[id] = evaluate(a);
  }

  for (const auto& job : jobs) {
    if (free_workers == 0 && !explain) {
      break;
    }
    std::array<int, r_count> counts{};
    int matching = 0;
    WorkerView* best = nullptr;
    std::tuple<double, bool, std::int64_t, const std::string*> best_key;
    for (auto& w : workers) {
      if ((!job.worker.empty() && w.name != job.worker) ||
          (!job.provider.empty() && w.provider != job.provider) ||
          (!job.gpu.empty() && !same_gpu(w.gpu, job.gpu))) {
        continue;
      }
      ++matching;
      std::optional<Reason> r;
      if (!job.runnable_on.count(w.provider)) {
        r = r_cannot_run;
      } else if (!w.enabled) {
        r = r_disabled;
      } else if (!w.online) {
        r = r_offline;
      } else if (w.busy) {
        r = r_busy;
      } else if (!w.in_slot) {
        r = r_outside_slot;
      }
      const AccountState* st = nullptr;
      if (!r) {
        auto it = states.find(w.account_id);
        st = it == states.end() ? nullptr : &it->second;
        if (st && st->refusal) {
          r = st->refusal;
        }
      }
      if (r) {
        ++counts[*r];
        continue;
      }
      auto key = std::make_tuple(job.avoid.count(w.id) > 0 ? 1.0 + (st ? st->share : 0.0)
                                                           : (st ? st->share : 0.0),
                                 job.avoid.count(w.id) > 0,
                                 w.last_dispatched ? w.last_dispatched->time_since_epoch().count()
                                                   : std::int64_t{-1},
                                 &w.name);
      if (!best || std::tie(std::get<0>(key), std::get<1>(key), std::get<2>(key)) <
                       std::tie(std::get<0>(best_key), std::get<1>(best_key),
                                std::get<2>(best_key)) ||
          (std::tie(std::get<0>(key), std::get<1>(key), std::get<2>(key)) ==
               std::tie(std::get<0>(best_key), std::get<1>(best_key), std::get<2>(best_key)) &&
           w.name < *std::get<3>(best_key))) {
        best = &w;
        best_key = key;
      }
    }
    if (!best) {
      if (explain) {
        std::string why;
        if (matching == 0) {
          why = "no worker matches its --worker/--provider/--gpu constraints";
        } else {
          for (int i = 0; i < r_count; ++i) {
            if (counts[i] == 0) {
              continue;
            }
            why += why.empty() ? "" : ", ";
            why += fmt::format("{} worker{} {}", counts[i], counts[i] == 1 ? "" : "s",
                               k_reason_text[i]);
          }
        }
        out.why[job.id] = why;
      }
      continue;
    }
    Assignment as;
    as.job_id = job.id;
    as.worker_id = best->id;
    auto ait = accounts.find(best->account_id);
    double committed_h = 0;
    if (ait != accounts.end()) {
      auto& a = ait->second;
      auto& st = states[a.id];
      as.projected_share = st.share;
      std::optional<std::int64_t> limit = job.timeout_s;
      if (a.session_per_job && st.time_left) {
        limit = limit ? std::min(*limit, *st.time_left) : *st.time_left;
      }
      as.timeout_s = limit.value_or(0);
      committed_h = static_cast<double>(as.timeout_s) / 3600.0;
      if (a.session_per_job) {
        a.open_sessions += 1;
        a.committed_h += committed_h;
        st = evaluate(a);
      }
    } else {
      as.timeout_s = job.timeout_s.value_or(0);
    }
    best->busy = true;
    best->last_dispatched = now;
    --free_workers;
    out.assignments.push_back(as);
  }
  return out;
}

} // namespace gpuctl::sched
