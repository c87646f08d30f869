// SPDX-License-Identifier: MIT
#include "gpuctl/autoscale/decide.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace gpuctl::autoscale {

Decision
decide(const Demand& d, const std::vector<Member>& members, const Params& p,
       std::optional<Instant> low_since, Instant now)
{
  Decision out;
  std::vector<const Member*> idle;
  for (const auto& m : members) {
    if (m.joined) {
      ++out.joined;
      if (m.idle) {
        idle.push_back(&m);
      }
    } else if (now - m.booted_at > (m.rejoining ? p.rejoin_timeout : p.boot_timeout)) {
      out.boot_timed_out.push_back(m.worker);
    } else {
      ++out.booting;
    }
  }
  out.others = std::max(0, d.num_workers - out.joined);
  out.want = std::max(0, d.target - out.others);
  if (d.unrunnable > 0) {
    if (out.joined == 0) {
      out.want = std::max(out.want, 1);
    } else {
      out.unrunnable_unserved = true;
    }
  }
  out.desired = std::clamp(out.want, p.min, std::max(p.min, p.max));
  const int current = out.joined + out.booting;
  if (out.desired > current) {
    out.start = std::min(out.desired - current, std::max(0, p.step_up));
  }
  if (out.desired < out.joined) {
    out.low_since = low_since.value_or(now);
    if (now - *out.low_since >= p.scale_down_after) {
      std::stable_sort(idle.begin(), idle.end(),
                       [](const Member* a, const Member* b) { return a->booted_at < b->booted_at; });
      const auto n = static_cast<std::size_t>(out.joined - out.desired);
      for (std::size_t i = 0; i < idle.size() && i < n; ++i) {
        out.retire.push_back(idle[i]->address);
      }
    }
  }
  out.why = fmt::format("target {} (adaptive_target), {} unrunnable, {} workers of which {} "
                        "gpuctl's and {} booting: want {}, desired {} in [{}, {}]",
                        d.target, d.unrunnable, d.num_workers, out.joined, out.booting, out.want,
                        out.desired, p.min, p.max);
  return out;
}

} // namespace gpuctl::autoscale
