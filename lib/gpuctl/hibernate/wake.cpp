// SPDX-License-Identifier: MIT
// `gpuctl wake` (DESIGN §8).
#include "gpuctl/core/error.hpp"
#include "gpuctl/hibernate/sweep.hpp"
#include "gpuctl/store/hibernation.hpp"
#include "gpuctl/store/registry.hpp"

#include <nlohmann/json.hpp>

namespace gpuctl::hibernate {

using json = nlohmann::json;

namespace {

bool
running_state(const std::string& s)
{
  return s == "online" || s == "idle" || s == "starting";
}

} // namespace

store::WorkerRow
wake(store::Database& db, cloud::Env& e, const std::string& worker)
{
  Instant now = e.clock.now();
  auto before = store::require_worker(db.sql(), worker);
  if (running_state(before.state)) {
    throw_conflict("worker '{}' is already {}", worker, before.state);
  }
  auto w = cloud::start_worker(db, e, worker);
  return db.write([&] {
    auto h = store::hibernation_of(db.sql(), w.id);
    h.woke_at = now;
    h.hibernated_at.reset();
    h.idle_since.reset();
    store::save_hibernation(db.sql(), h);
    store::insert_event(db.sql(), now, "woke", w.id, "wake (by hand)",
                        json{{"instance_id", w.provider_ref.value_or("")}}.dump());
    return store::require_worker(db.sql(), worker);
  });
}

} // namespace gpuctl::hibernate
