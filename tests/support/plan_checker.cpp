// SPDX-License-Identifier: MIT
#include "support/plan_checker.hpp"

#include <algorithm>
#include <climits>
#include <cmath>
#include <deque>
#include <map>
#include <set>
#include <sstream>

namespace gpuctl::test {

namespace {

// Edmonds–Karp on a dense capacity matrix.
struct Dense {
  int n;
  std::vector<std::int64_t> cap;
  explicit Dense(int nodes) : n(nodes), cap(static_cast<size_t>(nodes) * nodes, 0) {}
  std::int64_t& at(int u, int v) { return cap[static_cast<size_t>(u) * n + v]; }
  std::int64_t flow(int s, int t)
  {
    std::int64_t total = 0;
    for (;;) {
      std::vector<int> prev(static_cast<size_t>(n), -1);
      prev[static_cast<size_t>(s)] = s;
      std::deque<int> q{s};
      while (!q.empty() && prev[static_cast<size_t>(t)] < 0) {
        int u = q.front();
        q.pop_front();
        for (int v = 0; v < n; ++v) {
          if (prev[static_cast<size_t>(v)] < 0 && at(u, v) > 0) {
            prev[static_cast<size_t>(v)] = u;
            q.push_back(v);
          }
        }
      }
      if (prev[static_cast<size_t>(t)] < 0) {
        return total;
      }
      std::int64_t push = LLONG_MAX;
      for (int v = t; v != s; v = prev[static_cast<size_t>(v)]) {
        push = std::min(push, at(prev[static_cast<size_t>(v)], v));
      }
      for (int v = t; v != s; v = prev[static_cast<size_t>(v)]) {
        at(prev[static_cast<size_t>(v)], v) -= push;
        at(v, prev[static_cast<size_t>(v)]) += push;
      }
      total += push;
    }
  }
};

std::vector<std::int64_t>
cut_points(const CFleet& f, std::int64_t extra)
{
  std::set<std::int64_t> pts{0, f.horizon};
  if (extra > 0 && extra < f.horizon) pts.insert(extra);
  for (const auto& a : f.accounts) {
    for (const auto& w : a.windows) {
      if (w.start > 0 && w.start < f.horizon) pts.insert(w.start);
      if (w.end > 0 && w.end < f.horizon) pts.insert(w.end);
    }
  }
  return {pts.begin(), pts.end()};
}

// Flow with demand k on every minute before `until` (the whole horizon when until < 0); true when
// the demand is met. Windows: each account's kinds, longest first, chained per segment; an inner
// window that is not inside its outer one may use its whole budget in each piece (relaxation).
bool
meets(const CFleet& f, int k, std::int64_t until)
{
  auto pts = cut_points(f, until);
  size_t segs = pts.size() - 1;
  // Node numbering: 0 source, 1 sink, then segments, then per-account chain nodes on demand.
  std::map<std::vector<long>, int> chain;
  int next = 2 + static_cast<int>(segs);
  struct E {
    int u, v;
    std::int64_t c;
  };
  std::vector<E> edges;
  std::int64_t demand = 0;
  for (size_t s = 0; s < segs; ++s) {
    std::int64_t len = pts[s + 1] - pts[s];
    if (until < 0 || pts[s] < until) {
      edges.push_back({2 + static_cast<int>(s), 1, k * len});
      demand += k * len;
    }
  }
  for (size_t ai = 0; ai < f.accounts.size(); ++ai) {
    const auto& a = f.accounts[ai];
    int par = std::min<int>(a.concurrent, static_cast<int>(a.workers.size()));
    if (par <= 0) continue;
    std::vector<std::string> kinds;
    std::map<std::string, std::int64_t> period;
    for (const auto& w : a.windows) {
      if (!period.count(w.kind)) kinds.push_back(w.kind);
      period[w.kind] = std::max(period[w.kind], w.end - w.start);
    }
    std::stable_sort(kinds.begin(), kinds.end(),
                     [&](const std::string& x, const std::string& y) { return period[x] > period[y]; });
    for (size_t s = 0; s < segs; ++s) {
      std::int64_t t0 = pts[s], len = pts[s + 1] - pts[s];
      std::vector<long> key{static_cast<long>(ai)};
      int parent = 0;
      bool ok = true;
      for (const auto& kind : kinds) {
        long idx = -1;
        for (size_t wi = 0; wi < a.windows.size(); ++wi) {
          const auto& w = a.windows[wi];
          if (w.kind == kind && w.start <= t0 && t0 < w.end) idx = static_cast<long>(wi);
        }
        if (idx < 0) {
          ok = false;
          break;
        }
        key.push_back(idx);
        auto it = chain.find(key);
        if (it == chain.end()) {
          it = chain.emplace(key, next++).first;
          edges.push_back({parent, it->second, a.windows[static_cast<size_t>(idx)].budget});
        }
        parent = it->second;
      }
      if (!ok) continue;
      if (kinds.empty()) {
        key.push_back(-1);
        auto it = chain.find(key);
        if (it == chain.end()) {
          it = chain.emplace(key, next++).first;
          edges.push_back({0, it->second, LLONG_MAX / 8});
        }
        parent = it->second;
      }
      edges.push_back({parent, 2 + static_cast<int>(s), par * len});
    }
  }
  Dense d(next);
  for (const auto& e : edges) d.at(e.u, e.v) += e.c;
  return d.flow(0, 1) == demand;
}

} // namespace

std::vector<std::string>
check_slots(const CFleet& f, const std::vector<CSlot>& slots)
{
  std::vector<std::string> bad;
  auto say = [&](const std::string& s) { bad.push_back(s); };
  std::map<std::string, const CAccount*> owner;
  for (const auto& a : f.accounts)
    for (const auto& w : a.workers) owner[w] = &a;
  std::map<std::string, std::vector<std::pair<std::int64_t, std::int64_t>>> by_worker;
  std::map<std::string, std::vector<std::pair<std::int64_t, int>>> account_events;
  for (const auto& s : slots) {
    std::ostringstream id;
    id << s.worker << " [" << s.start << "," << s.end << ")";
    auto it = owner.find(s.worker);
    if (it == owner.end() || it->second->name != s.account) {
      say("unknown worker or wrong account: " + id.str());
      continue;
    }
    if (s.end <= s.start) say("empty or inverted slot " + id.str());
    if (s.start < 0 || s.end > f.horizon) say("slot outside the horizon " + id.str());
    if (it->second->cap > 0 && s.end - s.start > it->second->cap) say("slot longer than the cap " + id.str());
    by_worker[s.worker].push_back({s.start, s.end});
    account_events[s.account].push_back({s.start, +1});
    account_events[s.account].push_back({s.end, -1});
  }
  for (auto& [w, list] : by_worker) {
    std::sort(list.begin(), list.end());
    for (size_t i = 1; i < list.size(); ++i)
      if (list[i].first < list[i - 1].second) say("worker " + w + " runs two sessions at once");
  }
  for (const auto& a : f.accounts) {
    auto ev = account_events[a.name];
    std::sort(ev.begin(), ev.end());
    int run = 0;
    for (auto [t, d] : ev) {
      run += d;
      if (run > a.concurrent) {
        say("account " + a.name + " exceeds concurrent at minute " + std::to_string(t));
        break;
      }
    }
    for (const auto& w : a.windows) {
      std::int64_t used = 0;
      for (const auto& s : slots)
        if (s.account == a.name) used += std::max<std::int64_t>(0, std::min(s.end, w.end) - std::max(s.start, w.start));
      if (used > w.budget)
        say("account " + a.name + " " + w.kind + " window at " + std::to_string(w.start) + " uses " +
            std::to_string(used) + " > " + std::to_string(w.budget) + " minutes");
    }
  }
  return bad;
}

CSummary
summarise_slots(const CFleet& f, const std::vector<CSlot>& slots)
{
  CSummary r;
  std::vector<int> online(static_cast<size_t>(f.horizon), 0);
  std::map<std::string, std::int64_t> minutes;
  for (const auto& s : slots) {
    for (std::int64_t m = std::max<std::int64_t>(0, s.start); m < std::min(s.end, f.horizon); ++m) ++online[static_cast<size_t>(m)];
    minutes[s.account] += s.end - s.start;
    r.planned_hours += (s.end - s.start) / 60.0;
  }
  r.min_online = online.empty() ? 0 : *std::min_element(online.begin(), online.end());
  double total = 0;
  std::int64_t above = 0;
  for (int c : online) {
    total += c;
    above += c > r.min_online ? 1 : 0;
  }
  r.mean_online = f.horizon > 0 ? total / static_cast<double>(f.horizon) : 0;
  r.above_min_hours = above / 60.0;
  r.sessions = static_cast<int>(slots.size());
  for (const auto& a : f.accounts) {
    std::int64_t m = minutes[a.name];
    if (m > 0) r.min_sessions += a.cap > 0 ? static_cast<int>((m + a.cap - 1) / a.cap) : 1;
  }
  return r;
}

int
flow_bound(const CFleet& f)
{
  int k = 0;
  int most = 0;
  for (const auto& a : f.accounts) most += std::min<int>(a.concurrent, static_cast<int>(a.workers.size()));
  while (k < most && meets(f, k + 1, -1)) ++k;
  return k;
}

std::int64_t
sustain_minutes(const CFleet& f, int k)
{
  std::int64_t lo = 0, hi = f.horizon;
  while (lo < hi) {
    std::int64_t mid = (lo + hi + 1) / 2;
    if (meets(f, k, mid)) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

} // namespace gpuctl::test
