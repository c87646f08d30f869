// SPDX-License-Identifier: MIT
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace gpuctl::plan {

/// Max-flow (Dinic) on integer capacities. Incremental: raising a capacity and calling
/// `max_flow` again augments the existing flow.
class FlowGraph {
public:
  explicit FlowGraph(int nodes) : m_adj(static_cast<std::size_t>(nodes)) {}
  int add_node();
  /// Adds u → v with capacity `cap`; returns the edge id.
  int add_edge(int u, int v, std::int64_t cap);
  void set_capacity(int edge, std::int64_t cap);
  std::int64_t flow(int edge) const { return m_edges[static_cast<size_t>(edge)].flow; }
  /// Augments from s to t until no path is left; returns the flow added.
  std::int64_t max_flow(int s, int t);

private:
  struct Edge {
    int to;
    std::int64_t cap;
    std::int64_t flow;
  };
  bool bfs(int s, int t);
  std::int64_t dfs(int u, int t, std::int64_t pushed);
  std::vector<Edge> m_edges; // edge i and its reverse i ^ 1
  std::vector<std::vector<int>> m_adj;
  std::vector<int> m_level, m_it;
};

} // namespace gpuctl::plan
