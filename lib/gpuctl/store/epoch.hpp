// SPDX-License-Identifier: MIT
// Internal to store/: instants as the DB keeps them, UTC epoch seconds (DESIGN §3).
#pragma once
#include "gpuctl/core/clock.hpp"

#include <cstdint>

namespace gpuctl::store {

inline std::int64_t
epoch(Instant t)
{
  return t.time_since_epoch().count();
}

inline Instant
instant(std::int64_t s)
{
  return Instant{std::chrono::seconds{s}};
}

} // namespace gpuctl::store
