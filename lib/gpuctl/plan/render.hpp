// SPDX-License-Identifier: MIT
// Plan renderers (DESIGN §6): table, gantt, json, ics. They read a Plan, never the store.
#pragma once
#include "gpuctl/core/time.hpp"
#include "gpuctl/plan/plan.hpp"

#include <nlohmann/json.hpp>

#include <string>

namespace gpuctl::plan {

/// DESIGN §10 plan shape; `tz` is the display zone's name.
nlohmann::ordered_json render_json(const Plan& p, const std::string& tz);

/// GPUs online per hour of the horizon in the display zone: the least and most in each hour and
/// the least per provider, after a summary header.
std::string render_table(const Plan& p, const DisplayZone& zone, bool color);

/// One row per worker, time across in `width` columns (block characters: █ online the whole
/// cell, ▌ part of it), a day/hour ruler in the display zone.
std::string render_gantt(const Plan& p, const DisplayZone& zone, int width, bool color);

/// RFC 5545 calendar: one VEVENT per slot with a VALARM 10 min before; CRLF line ends, lines
/// folded at 75 octets, instants in UTC. `stamp` is DTSTAMP.
std::string render_ics(const Plan& p, Instant stamp);

} // namespace gpuctl::plan
