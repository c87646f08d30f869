// SPDX-License-Identifier: MIT
#include "gpuctl/plan/flow.hpp"

#include <algorithm>
#include <limits>
#include <queue>

namespace gpuctl::plan {

int
FlowGraph::add_node()
{
  m_adj.emplace_back();
  return static_cast<int>(m_adj.size()) - 1;
}

int
FlowGraph::add_edge(int u, int v, std::int64_t cap)
{
  int id = static_cast<int>(m_edges.size());
  m_edges.push_back({v, cap, 0});
  m_edges.push_back({u, 0, 0});
  m_adj[static_cast<size_t>(u)].push_back(id);
  m_adj[static_cast<size_t>(v)].push_back(id + 1);
  return id;
}

void
FlowGraph::set_capacity(int edge, std::int64_t cap)
{
  m_edges[static_cast<size_t>(edge)].cap = cap;
}

bool
FlowGraph::bfs(int s, int t)
{
  m_level.assign(m_adj.size(), -1);
  std::queue<int> q;
  m_level[static_cast<size_t>(s)] = 0;
  q.push(s);
  while (!q.empty()) {
    int u = q.front();
    q.pop();
    for (int id : m_adj[static_cast<size_t>(u)]) {
      const Edge& e = m_edges[static_cast<size_t>(id)];
      if (e.cap - e.flow > 0 && m_level[static_cast<size_t>(e.to)] < 0) {
        m_level[static_cast<size_t>(e.to)] = m_level[static_cast<size_t>(u)] + 1;
        q.push(e.to);
      }
    }
  }
  return m_level[static_cast<size_t>(t)] >= 0;
}

std::int64_t
FlowGraph::dfs(int u, int t, std::int64_t pushed)
{
  if (u == t || pushed == 0) {
    return pushed;
  }
  auto& it = m_it[static_cast<size_t>(u)];
  const auto& adj = m_adj[static_cast<size_t>(u)];
  for (; it < static_cast<int>(adj.size()); ++it) {
    int id = adj[static_cast<size_t>(it)];
    Edge& e = m_edges[static_cast<size_t>(id)];
    if (e.cap - e.flow <= 0 ||
        m_level[static_cast<size_t>(e.to)] != m_level[static_cast<size_t>(u)] + 1) {
      continue;
    }
    std::int64_t got = dfs(e.to, t, std::min(pushed, e.cap - e.flow));
    if (got > 0) {
      e.flow += got;
      m_edges[static_cast<size_t>(id ^ 1)].flow -= got;
      return got;
    }
  }
  return 0;
}

std::int64_t
FlowGraph::max_flow(int s, int t)
{
  std::int64_t total = 0;
  while (bfs(s, t)) {
    m_it.assign(m_adj.size(), 0);
    while (std::int64_t f = dfs(s, t, std::numeric_limits<std::int64_t>::max())) {
      total += f;
    }
  }
  return total;
}

} // namespace gpuctl::plan
