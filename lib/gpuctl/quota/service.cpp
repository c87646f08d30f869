// SPDX-License-Identifier: MIT
#include "gpuctl/quota/service.hpp"
#include "gpuctl/store/jobs.hpp"

#include "gpuctl/core/error.hpp"
#include "gpuctl/core/time.hpp"

#include <date/date.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <limits>
#include <set>

namespace gpuctl::quota {

namespace {

using namespace std::chrono;

Policy
policy_of(const store::AccountRow& a, const config::Config& cfg)
{
  return effective_policy(parse_provider(a.provider), overrides_from_json_text(a.policy_json), cfg);
}

// Fills share/binding/status/left/usable/next_reset from the windows.
void
summarise(AccountQuota& q, const config::Config& cfg)
{
  double safe_below = cfg.get_number("quota.safe_below");
  double critical_above = cfg.get_number("quota.critical_above");
  for (const auto& w : q.windows) {
    if (!q.share || w.share > *q.share) {
      q.share = w.share;
      q.binding = w.window.kind;
      q.left_h = w.left_h;
    }
    double usable = std::max(0.0, w.window.budget_h * safe_below - w.used_h);
    q.usable_h = q.usable_h ? std::min(*q.usable_h, usable) : usable;
    if (!q.next_reset || w.window.end < *q.next_reset) {
      q.next_reset = w.window.end;
    }
  }
  std::optional<double> money_share;
  if (q.spend && q.spend->max_usd_per_day > 0) {
    money_share = q.spend->usd / q.spend->max_usd_per_day;
  }
  std::optional<double> band = q.share;
  if (money_share && (!band || *money_share > *band)) {
    band = money_share;
  }
  q.status = status_of(band, safe_below, critical_above);
}

void
fill_deadlines(AccountQuota& q, const std::vector<store::SessionRow>& open, Instant now)
{
  auto runout = budget_runout(q.windows, static_cast<int>(open.size()), now);
  for (const auto& s : open) {
    OpenSession o;
    o.session = s;
    o.deadline = session_deadline(q.policy, s.started_at, runout);
    if (o.deadline) {
      o.left = duration_cast<Seconds>(*o.deadline - now);
    }
    o.warning = warning_level(o.deadline, now);
    q.sessions.push_back(std::move(o));
  }
}

// Usage of one window kind per account, cached per distinct [start, end).
struct UsageCache {
  store::Database& db;
  Instant now;
  std::map<std::pair<std::string, std::int64_t>, std::map<std::int64_t, std::int64_t>> seconds;
  std::map<std::pair<std::string, std::int64_t>, std::map<std::int64_t, double>> adjustments;

  double used_h(std::int64_t account, const Window& w)
  {
    auto key = std::make_pair(w.kind, static_cast<std::int64_t>(w.start.time_since_epoch().count()));
    auto it = seconds.find(key);
    if (it == seconds.end()) {
      it = seconds.emplace(key, store::usage_seconds_by_account(db.sql(), w.start, w.end, now)).first;
      adjustments.emplace(key, store::adjustment_hours_by_account(db.sql(), w.kind, w.start, w.end));
    }
    double h = 0;
    if (auto f = it->second.find(account); f != it->second.end()) {
      h += to_hours(f->second);
    }
    const auto& adj = adjustments.at(key);
    if (auto f = adj.find(account); f != adj.end()) {
      h += f->second;
    }
    return h;
  }
};

AccountQuota
quota_of(const store::AccountRow& a, const config::Config& cfg, Instant now,
         const std::function<double(std::int64_t, const Window&)>& used_h,
         const std::vector<store::SessionRow>& open, store::Database& db)
{
  AccountQuota q;
  q.account = a;
  q.provider = parse_provider(a.provider);
  q.policy = policy_of(a, cfg);
  q.estimated = q.provider == Provider::colab;
  for (const auto& w : windows_at(q.policy, now)) {
    WindowUsage u;
    u.window = w;
    u.used_h = used_h(a.id, w);
    u.left_h = std::max(0.0, w.budget_h - u.used_h);
    u.share = u.used_h / w.budget_h;
    q.windows.push_back(u);
  }
  if (q.provider == Provider::vast) {
    Spend s;
    s.day_start = Instant{floor<date::days>(now)};
    s.day_end = s.day_start + date::days(1);
    s.max_usd_per_day = q.policy.max_usd_per_day;
    s.usd = store::spend_usd(db.sql(), a.id, s.day_start, s.day_end, now);
    q.spend = s;
  }
  summarise(q, cfg);
  fill_deadlines(q, open, now);
  return q;
}

std::string
describe(const store::SessionRow& s)
{
  return fmt::format("session {} on {} since {}{}", s.id, s.worker, format_rfc3339(s.started_at),
                     s.ended_at ? " until " + format_rfc3339(*s.ended_at) : std::string(" (open)"));
}

constexpr Instant k_forever = Instant{seconds{std::numeric_limits<std::int32_t>::max() * 4LL}};

// Refuses [from, to) on the worker when it overlaps the worker's sessions, or when the account
// would run more than `concurrent` sessions at once anywhere in it.
void
check_slot(store::Database& db, const store::WorkerRow& w, const Policy& p, Instant from, Instant to)
{
  // A zero-length session still occupies its instant.
  Instant probe_to = to == from ? from + seconds(1) : to;
  for (const auto& s : store::sessions_overlapping(db.sql(), store::SessionsOf::worker, w.id, from, probe_to)) {
    throw_conflict("worker '{}' already has {}", w.name, describe(s));
  }
  if (!p.concurrent) {
    return;
  }
  auto others = store::sessions_overlapping(db.sql(), store::SessionsOf::account, w.account_id, from, probe_to);
  // Sweep the interval: +1 at each start, −1 at each end (half-open, ends before starts).
  std::vector<std::pair<Instant, int>> events;
  for (const auto& s : others) {
    events.emplace_back(std::max(s.started_at, from), +1);
    events.emplace_back(s.ended_at ? *s.ended_at : k_forever, -1);
  }
  std::sort(events.begin(), events.end());
  int running = 0;
  for (const auto& [t, d] : events) {
    running += d;
    if (t < probe_to && running + 1 > *p.concurrent) {
      // Name a session in the way: one running at t.
      for (const auto& s : others) {
        if (s.started_at <= t && (!s.ended_at || *s.ended_at > t)) {
          throw_conflict("account '{}' already runs {} session(s) at once (concurrent = {}): {}",
                         w.account, running, *p.concurrent, describe(s));
        }
      }
      throw_conflict("account '{}' would run more than {} sessions at once", w.account,
                     *p.concurrent);
    }
  }
}

// A new session row on worker `w` from `start`, at the worker's recorded price.
store::SessionRow
new_session(const store::WorkerRow& w, Instant start)
{
  store::SessionRow s;
  s.worker_id = w.id;
  s.worker = w.name;
  s.account_id = w.account_id;
  s.account = w.account;
  s.started_at = start;
  s.price_usd_per_hour = w.price_usd_per_hour;
  return s;
}

std::string
event_detail(const store::WorkerRow& w, const store::SessionRow& s)
{
  nlohmann::json j{{"worker", w.name},
                   {"account", w.account},
                   {"session", s.id},
                   {"started", format_rfc3339(s.started_at)}};
  if (s.ended_at) {
    j["ended"] = format_rfc3339(*s.ended_at);
  }
  return j.dump();
}

} // namespace

std::vector<AccountQuota>
compute_quotas(store::Database& db, const config::Config& cfg, Instant now, const std::string& only)
{
  std::vector<store::AccountRow> accounts;
  if (only.empty()) {
    accounts = store::list_accounts(db.sql());
  } else {
    accounts.push_back(store::require_account(db.sql(), only));
  }
  std::map<std::int64_t, std::vector<store::SessionRow>> open;
  for (auto& s : store::open_sessions(db.sql())) {
    open[s.account_id].push_back(std::move(s));
  }
  UsageCache cache{db, now, {}, {}};
  std::function<double(std::int64_t, const Window&)> used;
  if (accounts.size() == 1) {
    used = [&](std::int64_t id, const Window& w) {
      double h = to_hours(store::usage_seconds(db.sql(), id, w.start, w.end, now));
      auto adj = store::adjustment_hours_by_account(db.sql(), w.kind, w.start, w.end);
      return h + (adj.count(id) ? adj.at(id) : 0.0);
    };
  } else {
    used = [&](std::int64_t id, const Window& w) { return cache.used_h(id, w); };
  }
  std::vector<AccountQuota> out;
  out.reserve(accounts.size());
  for (const auto& a : accounts) {
    out.push_back(quota_of(a, cfg, now, used, open[a.id], db));
  }
  return out;
}

std::map<std::int64_t, OpenSession>
open_session_deadlines(store::Database& db, const config::Config& cfg, Instant now)
{
  std::map<std::int64_t, std::vector<store::SessionRow>> open;
  for (auto& s : store::open_sessions(db.sql())) {
    open[s.account_id].push_back(std::move(s));
  }
  std::map<std::int64_t, OpenSession> out;
  for (const auto& [account_id, sessions] : open) {
    std::string name = sessions.front().account;
    for (auto& q : compute_quotas(db, cfg, now, name)) {
      for (auto& o : q.sessions) {
        out[o.session.id] = o;
      }
    }
  }
  return out;
}

store::SessionRow
start_session(store::Database& db, const config::Config& cfg, const std::string& worker, Instant at,
              Instant now)
{
  if (at > now) {
    throw_usage("cannot start a session in the future ({}); use 'gpuctl schedule' to plan",
                format_rfc3339(at));
  }
  return db.write([&] {
    auto w = store::require_worker(db.sql(), worker);
    if (!w.enabled) {
      throw_usage("worker '{}' is disabled (gpuctl worker enable {})", worker, worker);
    }
    if (auto open = store::open_session_of_worker(db.sql(), w.id)) {
      throw_conflict("worker '{}' already has {}", worker, describe(*open));
    }
    auto account = store::find_account(db.sql(), w.account);
    Policy p = policy_of(*account, cfg);
    check_slot(db, w, p, at, k_forever);
    store::SessionRow s = new_session(w, at);
    s.id = store::insert_session(db.sql(), s);
    store::set_worker_state(db.sql(), w.id, "online", at);
    store::insert_event(db.sql(), now, "session.start", w.id, "started", event_detail(w, s));
    return s;
  });
}

store::SessionRow
stop_session(store::Database& db, const std::string& worker, Instant at, const std::string& reason,
             Instant now)
{
  if (at > now) {
    throw_usage("cannot stop a session in the future ({})", format_rfc3339(at));
  }
  return db.write([&] {
    auto w = store::require_worker(db.sql(), worker);
    auto open = store::open_session_of_worker(db.sql(), w.id);
    if (!open) {
      throw_conflict("worker '{}' has no open session", worker);
    }
    for (const auto& j : store::active_jobs(db.sql())) {
      if (j.worker_id == w.id) {
        // The run goes on at the provider, and so does its use of the quota: the scheduler
        // closes this session when the job ends.
        throw_conflict("worker '{}' is running job {} in this session; cancel the job with "
                       "'gpuctl job cancel {}' instead",
                       worker, j.id, j.id);
      }
    }
    if (at < open->started_at) {
      throw_usage("--at {} is before the session started ({})", format_rfc3339(at),
                  format_rfc3339(open->started_at));
    }
    store::close_session(db.sql(), open->id, at, reason);
    open->ended_at = at;
    open->end_reason = reason;
    store::set_worker_state(db.sql(), w.id, "offline", at);
    store::insert_event(db.sql(), now, "session.stop", w.id, reason, event_detail(w, *open));
    return *open;
  });
}

store::SessionRow
add_session(store::Database& db, const config::Config& cfg, const std::string& worker,
            Instant start, Instant end, Instant now)
{
  if (end < start) {
    throw_usage("--end {} is before --start {}", format_rfc3339(end), format_rfc3339(start));
  }
  if (end > now) {
    throw_usage("--end {} is in the future; record sessions that have ended (or use 'session start')",
                format_rfc3339(end));
  }
  return db.write([&] {
    auto w = store::require_worker(db.sql(), worker);
    auto account = store::find_account(db.sql(), w.account);
    Policy p = policy_of(*account, cfg);
    check_slot(db, w, p, start, end);
    store::SessionRow s = new_session(w, start);
    s.ended_at = end;
    s.end_reason = "recorded";
    s.id = store::insert_session(db.sql(), s);
    store::insert_event(db.sql(), now, "session.add", w.id, "recorded", event_detail(w, s));
    return s;
  });
}

std::vector<SessionView>
list_sessions(store::Database& db, const config::Config& cfg, const store::SessionFilter& f,
              Instant now)
{
  auto deadlines = open_session_deadlines(db, cfg, now);
  auto rows = store::list_sessions(db.sql(), f);
  // A removed worker's sessions are still listed by name; an unknown name with none is an error.
  if (rows.empty() && !f.worker.empty() && !store::find_worker(db.sql(), f.worker)) {
    throw_usage("no worker named '{}' (see 'gpuctl worker list')", f.worker);
  }
  std::vector<SessionView> out;
  for (auto& s : rows) {
    SessionView v;
    v.session = std::move(s);
    if (auto it = deadlines.find(v.session.id); it != deadlines.end()) {
      v.deadline = it->second.deadline;
    }
    out.push_back(std::move(v));
  }
  return out;
}

} // namespace gpuctl::quota
