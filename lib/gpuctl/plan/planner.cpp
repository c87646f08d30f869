// SPDX-License-Identifier: MIT
// Planning in whole minutes over segments: the horizon cut at every window boundary. The ceiling
// is a max-flow (source → window instances → segments → sink); 24x7 and economy lay the flow of
// each segment out with McNaughton's wrap-around rule, which turns any per-segment amounts that
// fit (≤ concurrent × length per account) into sessions on distinct workers.
#include "gpuctl/plan/plan.hpp"

#include "gpuctl/core/error.hpp"
#include "gpuctl/plan/flow.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

namespace gpuctl::plan {

namespace {

using std::int64_t;
constexpr int64_t k_inf = std::numeric_limits<int64_t>::max() / 4;

int64_t
minutes_between(Instant a, Instant b)
{
  return std::chrono::duration_cast<std::chrono::minutes>(b - a).count();
}

int64_t
budget_minutes(double hours)
{
  return std::max<int64_t>(0, static_cast<int64_t>(std::floor(hours * 60.0 + 1e-6)));
}

int
parallel(const PlanAccount& a)
{
  return std::max(0, std::min<int>(a.concurrent, static_cast<int>(a.workers.size())));
}

/// The flow network of one horizon: built once, sink capacities set per level.
struct Network {
  std::vector<int64_t> bounds; ///< segment boundaries in minutes from `from`
  FlowGraph g{2};
  int source = 0, sink = 1;
  std::vector<int> sink_edges;                  ///< per segment
  std::vector<int64_t> fixed_online;            ///< per segment: fixed slots running in it
  std::vector<std::vector<std::pair<int, int>>> account_edges; ///< per account: (segment, edge)
  int64_t len(size_t s) const { return bounds[s + 1] - bounds[s]; }
  size_t segments() const { return bounds.size() - 1; }

  void set_level(const std::vector<int64_t>& per_segment_gpus)
  {
    for (size_t s = 0; s < segments(); ++s) {
      g.set_capacity(sink_edges[s], std::max<int64_t>(0, per_segment_gpus[s] - fixed_online[s]) * len(s));
    }
  }
  int64_t run() { return g.max_flow(source, sink); }
};

// `strict`: a daily instance split across two weekly instances gets each piece a share of its
// budget in proportion to the piece's length, so any flow is a valid plan; otherwise (the
// ceiling) each piece may use the whole daily budget, a relaxation that stays an upper bound.
Network
build(const PlanInput& in, std::vector<int64_t> extra_bounds = {}, bool strict = true)
{
  Network n;
  int64_t horizon = minutes_between(in.from, in.to);
  std::set<int64_t> b{0, horizon};
  for (int64_t x : extra_bounds) {
    if (x > 0 && x < horizon) {
      b.insert(x);
    }
  }
  for (const auto& a : in.accounts) {
    for (const auto& f : a.fixed) {
      int64_t m = minutes_between(in.from, f.end);
      if (m > 0 && m < horizon) {
        b.insert(m);
      }
    }
    for (const auto& w : a.windows) {
      for (Instant t : {w.start, w.end}) {
        int64_t m = minutes_between(in.from, t);
        if (m > 0 && m < horizon) {
          b.insert(m);
        }
      }
    }
  }
  n.bounds.assign(b.begin(), b.end());
  n.fixed_online.assign(n.segments(), 0);
  for (const auto& a : in.accounts) {
    for (const auto& f : a.fixed) {
      for (size_t s = 0; s < n.segments(); ++s) {
        n.fixed_online[s] += n.bounds[s] < minutes_between(in.from, f.end) ? 1 : 0;
      }
    }
  }
  std::vector<int> seg_nodes;
  for (size_t s = 0; s < n.segments(); ++s) {
    seg_nodes.push_back(n.g.add_node());
    n.sink_edges.push_back(n.g.add_edge(seg_nodes.back(), n.sink, 0));
  }
  n.account_edges.resize(in.accounts.size());
  for (size_t ai = 0; ai < in.accounts.size(); ++ai) {
    const auto& a = in.accounts[ai];
    int par = parallel(a);
    if (par == 0) {
      continue;
    }
    // Window kinds, outermost (longest) first.
    std::vector<std::string> kinds;
    for (const auto& w : a.windows) {
      if (std::find(kinds.begin(), kinds.end(), w.kind) == kinds.end()) {
        kinds.push_back(w.kind);
      }
    }
    std::sort(kinds.begin(), kinds.end(), [&](const std::string& x, const std::string& y) {
      auto period = [&](const std::string& k) {
        for (const auto& w : a.windows) {
          if (w.kind == k) return w.end - w.start;
        }
        return Seconds(0);
      };
      return period(x) > period(y);
    });
    // The node chain of each segment: one node per distinct tuple of window instances, each
    // level capped by its instance's budget (a daily instance split across two weekly ones is
    // capped in each piece: the relaxation).
    std::map<std::string, std::vector<int>> by_kind;
    for (size_t wi = 0; wi < a.windows.size(); ++wi) {
      by_kind[a.windows[wi].kind].push_back(static_cast<int>(wi));
    }
    std::map<std::vector<int>, int> chain_nodes; // prefix of instance indices → node
    std::map<int, int> instance_edge_node;       // top-level instance → node
    int free_node = -1;                           // no windows: one node fed without limit
    for (size_t s = 0; s < n.segments(); ++s) {
      int64_t mid = n.bounds[s];
      std::vector<int> tuple;
      bool blocked = false;
      for (const auto& k : kinds) {
        int found = -1;
        for (int wi : by_kind[k]) {
          const auto& w = a.windows[static_cast<size_t>(wi)];
          if (minutes_between(in.from, w.start) <= mid && minutes_between(in.from, w.end) > mid) {
            found = wi;
            break;
          }
        }
        if (found < 0) {
          blocked = true; // a kind with no instance here: nothing may run (defensive)
          break;
        }
        tuple.push_back(found);
      }
      if (blocked) {
        continue;
      }
      int parent = n.source;
      if (tuple.empty()) {
        if (free_node < 0) {
          free_node = n.g.add_node();
          n.g.add_edge(n.source, free_node, k_inf);
        }
        parent = free_node;
      }
      std::vector<int> prefix;
      for (int wi : tuple) {
        prefix.push_back(wi);
        auto it = chain_nodes.find(prefix);
        if (it == chain_nodes.end()) {
          int node = n.g.add_node();
          const auto& w = a.windows[static_cast<size_t>(wi)];
          int64_t cap = budget_minutes(w.hours);
          if (strict && prefix.size() > 1) {
            const auto& outer = a.windows[static_cast<size_t>(prefix[prefix.size() - 2])];
            Instant lo = std::max(w.start, outer.start), hi = std::min(w.end, outer.end);
            if (lo > w.start || hi < w.end) { // not nested: this piece's share
              cap = cap * minutes_between(lo, hi) / std::max<int64_t>(1, minutes_between(w.start, w.end));
            }
          }
          n.g.add_edge(parent, node, cap);
          it = chain_nodes.emplace(prefix, node).first;
        }
        parent = it->second;
      }
      int busy = 0; // this account's fixed slots running in the segment
      for (const auto& f : a.fixed) {
        busy += n.bounds[s] < minutes_between(in.from, f.end) ? 1 : 0;
      }
      int e = n.g.add_edge(parent, seg_nodes[s], std::max(0, par - busy) * n.len(s));
      n.account_edges[ai].push_back({static_cast<int>(s), e});
    }
  }
  return n;
}

int
max_parallel(const PlanInput& in)
{
  int k = 0;
  for (const auto& a : in.accounts) {
    k += parallel(a);
  }
  return k;
}

bool
feasible(const PlanInput& in, int k, std::vector<int64_t> extra = {}, int64_t until = -1,
         bool strict = true)
{
  Network n = build(in, std::move(extra), strict);
  std::vector<int64_t> level(n.segments(), 0);
  int64_t want = 0;
  for (size_t s = 0; s < n.segments(); ++s) {
    if (until < 0 || n.bounds[s] < until) {
      level[s] = k;
      want += std::max<int64_t>(0, k - n.fixed_online[s]) * n.len(s);
    }
  }
  n.set_level(level);
  return n.run() == want;
}

// Per worker, minute intervals [start, end) relative to `from`.
using Intervals = std::map<std::string, std::vector<std::pair<int64_t, int64_t>>>;

// Lays the flow of each segment out on workers (wrap-around), keeping a worker that ran up to a
// segment boundary on the same account's work after it, so that sessions stay long.
void
lay_out(const PlanInput& in, const Network& n, Intervals& out)
{
  std::vector<std::set<std::string>> running_at_boundary(in.accounts.size());
  std::vector<std::vector<int64_t>> amount(in.accounts.size(), std::vector<int64_t>(n.segments(), 0));
  for (size_t ai = 0; ai < in.accounts.size(); ++ai) {
    for (auto [s, e] : n.account_edges[ai]) {
      amount[ai][static_cast<size_t>(s)] = n.g.flow(e);
    }
  }
  for (size_t s = 0; s < n.segments(); ++s) {
    const int64_t L = n.len(s), base = n.bounds[s];
    struct Piece {
      size_t account;
      int64_t length;
      std::string worker;
      bool continues;
    };
    std::vector<Piece> full, partial;
    std::vector<std::set<std::string>> next_running(in.accounts.size());
    for (size_t ai = 0; ai < in.accounts.size(); ++ai) {
      int64_t f = amount[ai][s];
      if (f <= 0) {
        continue;
      }
      const auto& a = in.accounts[ai];
      auto busy = [&](const std::string& w) {
        for (const auto& f : a.fixed) {
          if (f.worker == w && base < minutes_between(in.from, f.end)) return true;
        }
        return false;
      };
      std::vector<std::string> order; // continuing workers first, busy ones not at all
      for (const auto& w : a.workers) {
        if (running_at_boundary[ai].count(w) && !busy(w)) order.push_back(w);
      }
      for (const auto& w : a.workers) {
        if (!running_at_boundary[ai].count(w) && !busy(w)) order.push_back(w);
      }
      size_t next = 0;
      for (int64_t i = 0; i < f / L; ++i, ++next) {
        full.push_back({ai, L, order[next], true});
      }
      if (f % L > 0) {
        bool cont = running_at_boundary[ai].count(order[next]) > 0;
        partial.push_back({ai, f % L, order[next], cont});
      }
    }
    for (const auto& p : full) {
      out[p.worker].push_back({base, base + L});
      next_running[p.account].insert(p.worker);
    }
    // Wrap-around over the partial pieces. The places that touch the segment's edges are the
    // first piece (it starts at the segment start) and every piece that reaches a row's end
    // (its tail ends at the segment end, its head starts the next row at the segment start):
    // give those places to workers that ran up to this segment, so their sessions go on.
    int64_t cursor = 0; // position in the current partial row
    std::vector<bool> used(partial.size(), false);
    for (size_t placed = 0; placed < partial.size(); ++placed) {
      size_t pick = partial.size();
      for (int pass = 0; pass < 3 && pick == partial.size(); ++pass) {
        for (size_t i = 0; i < partial.size(); ++i) {
          if (used[i]) continue;
          bool edge = cursor == 0 || cursor + partial[i].length >= L;
          bool ok = pass == 0   ? edge && partial[i].continues       // a continuing worker at an edge
                    : pass == 1 ? !edge && !partial[i].continues    // others in the middle
                                : true;                             // whatever is left
          if (ok) {
            pick = i;
            break;
          }
        }
      }
      used[pick] = true;
      const Piece& p = partial[pick];
      int64_t first = std::min(p.length, L - cursor);
      out[p.worker].push_back({base + cursor, base + cursor + first});
      if (cursor + first == L) {
        next_running[p.account].insert(p.worker);
      }
      cursor += first;
      if (cursor == L) {
        cursor = 0;
        if (first < p.length) {
          out[p.worker].push_back({base, base + (p.length - first)});
          cursor = p.length - first;
        }
      }
    }
    running_at_boundary = std::move(next_running);
  }
}

// Merges touching intervals per worker and cuts runs into sessions of at most `cap`.
std::vector<Slot>
to_slots(const PlanInput& in, Intervals& iv)
{
  std::map<std::string, const PlanAccount*> owner;
  for (const auto& a : in.accounts) {
    for (const auto& w : a.workers) {
      owner[w] = &a;
    }
  }
  std::vector<Slot> slots;
  for (auto& [worker, list] : iv) {
    std::sort(list.begin(), list.end());
    std::vector<std::pair<int64_t, int64_t>> runs;
    for (const auto& x : list) {
      if (x.second <= x.first) continue;
      if (!runs.empty() && runs.back().second >= x.first) {
        runs.back().second = std::max(runs.back().second, x.second);
      } else {
        runs.push_back(x);
      }
    }
    const PlanAccount* a = owner.at(worker);
    int64_t cap = a->cap ? std::max<int64_t>(1, a->cap->count() / 60) : k_inf;
    for (auto [s, e] : runs) {
      while (s < e) {
        int64_t piece = std::min(cap, e - s);
        slots.push_back({worker, a->name, a->provider, in.from + std::chrono::minutes(s),
                         in.from + std::chrono::minutes(s + piece)});
        s += piece;
      }
    }
  }
  for (const auto& a : in.accounts) {
    for (const auto& f : a.fixed) {
      Instant end = std::min(f.end, in.to);
      if (end > in.from) {
        slots.push_back({f.worker, a.name, a.provider, in.from, end});
      }
    }
  }
  std::sort(slots.begin(), slots.end(), [](const Slot& x, const Slot& y) {
    return std::tie(x.start, x.worker) < std::tie(y.start, y.worker);
  });
  return slots;
}

// burst: per account, minute by minute, keep every worker it may run busy while the budget of
// every window allows; sessions end at their cap and start again back to back.
std::vector<Slot>
burst(const PlanInput& in)
{
  Intervals iv;
  int64_t horizon = minutes_between(in.from, in.to);
  for (const auto& a : in.accounts) {
    int par = parallel(a);
    if (par == 0) continue;
    int64_t cap = a.cap ? std::max<int64_t>(1, a.cap->count() / 60) : horizon;
    std::vector<int64_t> left;
    for (const auto& w : a.windows) left.push_back(budget_minutes(w.hours));
    const int nw = static_cast<int>(a.workers.size());
    std::vector<int64_t> started(static_cast<size_t>(nw), -1); // -1 = idle
    std::vector<int64_t> pinned_until(static_cast<size_t>(nw), 0); // fixed slots (minutes)
    for (const auto& f : a.fixed) {
      auto it = std::find(a.workers.begin(), a.workers.end(), f.worker);
      if (it != a.workers.end()) {
        pinned_until[static_cast<size_t>(it - a.workers.begin())] = minutes_between(in.from, f.end);
      }
    }
    for (int64_t m = 0; m < horizon; ++m) {
      // Budget available this minute: the least of the windows containing it.
      int64_t avail = k_inf;
      std::vector<size_t> here;
      for (size_t wi = 0; wi < a.windows.size(); ++wi) {
        const auto& w = a.windows[wi];
        if (minutes_between(in.from, w.start) <= m && minutes_between(in.from, w.end) > m) {
          avail = std::min(avail, left[wi]);
          here.push_back(wi);
        }
      }
      int pinned = 0, running = 0;
      for (int i = 0; i < nw; ++i) {
        auto& st = started[static_cast<size_t>(i)];
        pinned += pinned_until[static_cast<size_t>(i)] > m ? 1 : 0;
        if (st >= 0 && m - st >= cap) {
          iv[a.workers[static_cast<size_t>(i)]].push_back({st, m});
          st = -1;
        }
        if (st >= 0) ++running;
      }
      // Stop the newest sessions when the budget cannot carry them all this minute.
      for (int i = nw - 1; i >= 0 && running > avail; --i) {
        auto& st = started[static_cast<size_t>(i)];
        if (st >= 0) {
          iv[a.workers[static_cast<size_t>(i)]].push_back({st, m});
          st = -1;
          --running;
        }
      }
      // Start idle workers while the budget and `concurrent` (fixed slots included) allow.
      for (int i = 0; i < nw && running < avail && running + pinned < par; ++i) {
        auto& st = started[static_cast<size_t>(i)];
        if (st < 0 && pinned_until[static_cast<size_t>(i)] <= m) {
          st = m;
          ++running;
        }
      }
      for (size_t wi : here) left[wi] -= running;
    }
    for (int i = 0; i < nw; ++i) {
      if (started[static_cast<size_t>(i)] >= 0) {
        iv[a.workers[static_cast<size_t>(i)]].push_back({started[static_cast<size_t>(i)], horizon});
      }
    }
  }
  // Sessions already end at their cap: keep them apart (no merge across a cap restart).
  std::map<std::string, const PlanAccount*> owner;
  for (const auto& a : in.accounts)
    for (const auto& w : a.workers) owner[w] = &a;
  std::vector<Slot> slots;
  for (const auto& a : in.accounts) {
    for (const auto& f : a.fixed) {
      Instant end = std::min(f.end, in.to);
      if (end > in.from) {
        slots.push_back({f.worker, a.name, a.provider, in.from, end});
      }
    }
  }
  for (const auto& [w, list] : iv) {
    for (auto [s, e] : list) {
      if (e > s) {
        slots.push_back({w, owner.at(w)->name, owner.at(w)->provider,
                         in.from + std::chrono::minutes(s), in.from + std::chrono::minutes(e)});
      }
    }
  }
  std::sort(slots.begin(), slots.end(), [](const Slot& x, const Slot& y) {
    return std::tie(x.start, x.worker) < std::tie(y.start, y.worker);
  });
  return slots;
}

} // namespace

namespace {
constexpr Strategy k_strategies[] = {Strategy::full_time, Strategy::burst, Strategy::economy};
} // namespace

std::span<const Strategy>
all_strategies()
{
  return k_strategies;
}

Strategy
parse_strategy(std::string_view s)
{
  for (Strategy st : k_strategies) {
    if (to_string(st) == s) {
      return st;
    }
  }
  throw_usage("unknown strategy '{}' (expected 24x7, burst or economy)", s);
}

std::string_view
to_string(Strategy s)
{
  switch (s) {
  case Strategy::full_time: return "24x7";
  case Strategy::burst: return "burst";
  case Strategy::economy: return "economy";
  }
  return "?";
}

namespace {

int
best_level(const PlanInput& in, bool strict)
{
  int lo = 0, hi = max_parallel(in);
  while (lo < hi) {
    int mid = (lo + hi + 1) / 2;
    if (feasible(in, mid, {}, -1, strict)) {
      lo = mid;
    } else {
      hi = mid - 1;
    }
  }
  return lo;
}

} // namespace

namespace {

// Whether some account has a shorter window that is not inside one of its longer windows (the
// only case in which the relaxed and the strict networks differ).
bool
windows_cross(const PlanInput& in)
{
  for (const auto& a : in.accounts) {
    for (const auto& x : a.windows) {
      for (const auto& y : a.windows) {
        bool shorter = (x.end - x.start) < (y.end - y.start);
        bool overlap = x.start < y.end && y.start < x.end;
        if (shorter && overlap && (x.start < y.start || x.end > y.end)) {
          return true;
        }
      }
    }
  }
  return false;
}

} // namespace

int
ceiling(const PlanInput& in)
{
  return best_level(in, false);
}

Plan
make_plan(const PlanInput& in)
{
  if (in.to <= in.from) {
    throw_usage("the planning horizon is empty");
  }
  Plan plan;
  plan.strategy = in.strategy;
  plan.from = in.from;
  plan.to = in.to;
  plan.ceiling = ceiling(in);
  Intervals iv;
  switch (in.strategy) {
  case Strategy::full_time: {
    Network n = build(in);
    // The strict level equals the ceiling unless daily and weekly windows cross.
    int k = windows_cross(in) ? best_level(in, true) : plan.ceiling;
    for (int64_t level : {static_cast<int64_t>(k), static_cast<int64_t>(k) + 1,
                          static_cast<int64_t>(max_parallel(in))}) {
      n.set_level(std::vector<int64_t>(n.segments(), level));
      n.run();
    }
    lay_out(in, n, iv);
    plan.slots = to_slots(in, iv);
    break;
  }
  case Strategy::economy: {
    int keep = std::min(in.keep, max_parallel(in));
    int64_t horizon = minutes_between(in.from, in.to);
    int64_t lo = 0, hi = horizon; // the longest prefix during which `keep` can stay online
    while (lo < hi && keep > 0) {
      int64_t mid = (lo + hi + 1) / 2;
      if (feasible(in, keep, {mid}, mid)) lo = mid;
      else hi = mid - 1;
    }
    Network n = build(in, {lo});
    std::vector<int64_t> level(n.segments(), 0);
    for (size_t s = 0; s < n.segments(); ++s) {
      level[s] = n.bounds[s] < lo ? keep : 0;
    }
    n.set_level(level);
    n.run();
    lay_out(in, n, iv);
    plan.slots = to_slots(in, iv);
    break;
  }
  case Strategy::burst: plan.slots = burst(in); break;
  }
  summarise(plan, in);
  return plan;
}

void
summarise(Plan& plan, const PlanInput& in)
{
  std::map<Instant, std::map<std::string, int>> delta;
  delta[in.from];
  delta[in.to];
  std::map<std::string, double> hours_by_account;
  plan.planned_hours = 0;
  for (const auto& s : plan.slots) {
    ++delta[s.start][s.provider];
    --delta[s.end][s.provider];
    double h = std::chrono::duration<double>(s.end - s.start).count() / 3600.0;
    plan.planned_hours += h;
    hours_by_account[s.account] += h;
  }
  plan.online.clear();
  std::map<std::string, int> current;
  for (auto it = delta.begin(); it != delta.end(); ++it) {
    for (const auto& [p, d] : it->second) {
      current[p] += d;
    }
    auto next = std::next(it);
    if (next == delta.end() || it->first >= in.to) {
      break;
    }
    if (it->first < in.from) {
      continue;
    }
    OnlineStep step{it->first, next->first, 0, {}};
    for (const auto& [p, c] : current) {
      if (c != 0) {
        step.by_provider[p] = c;
        step.count += c;
      }
    }
    if (!plan.online.empty() && plan.online.back().count == step.count &&
        plan.online.back().by_provider == step.by_provider && plan.online.back().end == step.start) {
      plan.online.back().end = step.end;
    } else {
      plan.online.push_back(step);
    }
  }
  plan.min_online = plan.online.empty() ? 0 : std::numeric_limits<int>::max();
  double total = 0;
  for (const auto& st : plan.online) {
    plan.min_online = std::min(plan.min_online, st.count);
    total += st.count * std::chrono::duration<double>(st.end - st.start).count();
  }
  double horizon_s = std::chrono::duration<double>(in.to - in.from).count();
  plan.mean_online = horizon_s > 0 ? total / horizon_s : 0;
  plan.above_min_hours = 0;
  for (const auto& st : plan.online) {
    if (st.count > plan.min_online) {
      plan.above_min_hours += std::chrono::duration<double>(st.end - st.start).count() / 3600.0;
    }
  }
  plan.sessions = static_cast<int>(plan.slots.size());
  plan.min_sessions = 0;
  for (const auto& a : in.accounts) {
    double h = hours_by_account[a.name];
    if (h <= 0) continue;
    if (!a.cap) {
      ++plan.min_sessions; // no cap: one session could carry it all
      continue;
    }
    double cap_h = std::chrono::duration<double>(*a.cap).count() / 3600.0;
    plan.min_sessions += static_cast<int>(std::ceil(h / cap_h - 1e-9));
  }
}

} // namespace gpuctl::plan
