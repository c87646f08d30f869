// SPDX-License-Identifier: MIT
#include "app.hpp"

#include "gpuctl/fleet/fleet.hpp"
#include "gpuctl/output/table.hpp"

#include <iostream>
#include <map>

namespace gpuctl::app {

void
register_status(CLI::App& app, Registry& r)
{
  auto* sub = app.add_subcommand("status", "pool summary: workers by state and provider\n"
                                           "Example: gpuctl status --json");
  r.on(sub, [](Context& ctx) {
    auto db = ctx.open(store::Access::read);
    auto workers = fleet::list_workers(db, {});
    std::map<std::string, int> by_state, by_provider;
    int online = 0;
    for (const auto& w : workers) {
      ++by_state[w.state];
      ++by_provider[w.provider];
      online += w.state == "online" ? 1 : 0;
    }
    if (ctx.json()) {
      ctx.print_json({{"workers",
                       {{"total", workers.size()},
                        {"online", online},
                        {"by_state", by_state},
                        {"by_provider", by_provider}}}});
      return 0;
    }
    std::cout << fmt::format("workers  {} total, {} online\n", workers.size(), online);
    if (workers.empty()) {
      return 0;
    }
    output::Table t({"PROVIDER", "WORKERS", "ONLINE", "ENABLED"});
    t.align_right(1);
    t.align_right(2);
    t.align_right(3);
    std::map<std::string, std::pair<int, int>> extra;
    for (const auto& w : workers) {
      extra[w.provider].first += w.state == "online" ? 1 : 0;
      extra[w.provider].second += w.enabled ? 1 : 0;
    }
    for (const auto& [p, n] : by_provider) {
      t.add({p, std::to_string(n), std::to_string(extra[p].first), std::to_string(extra[p].second)});
    }
    std::cout << "\n" << t.render(ctx.color());
    return 0;
  });
}

} // namespace gpuctl::app
