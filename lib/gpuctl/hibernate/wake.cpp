// SPDX-License-Identifier: MIT
// `gpuctl wake` (DESIGN §8).
#include "gpuctl/core/error.hpp"
#include "gpuctl/hibernate/sweep.hpp"
#include "gpuctl/store/hibernation.hpp"
#include "gpuctl/store/registry.hpp"

#include "gpuctl/core/duration.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <chrono>

namespace gpuctl::hibernate {

using json = nlohmann::json;

namespace {

void
record_wake(store::Database& db, const store::WorkerRow& w, Instant now, const std::string& reason,
            const json& detail)
{
  db.write([&] {
    auto h = store::hibernation_of(db.sql(), w.id);
    h.woke_at = now;
    h.hibernated_at.reset();
    h.idle_since.reset();
    store::save_hibernation(db.sql(), h);
    store::insert_event(db.sql(), now, "woke", w.id, reason, detail.dump());
  });
}

/// Whether the worker's instance is waiting for its GPUs ("scheduling", spec §6).
bool
stuck_scheduling(store::Database& db, cloud::Env& e, const store::WorkerRow& w)
{
  if (!w.provider_ref) {
    return false;
  }
  auto account = store::require_account(db.sql(), w.account);
  auto c = cloud::vast_client(db, e, account);
  auto i = c.show_instance(std::stoll(*w.provider_ref));
  return !i || providers::vast::scheduling(*i);
}

} // namespace

WakeResult
wake(store::Database& db, cloud::Env& e, const std::string& worker, const WakeOptions& o)
{
  const Instant now = e.clock.now();
  const Seconds start_timeout = e.cfg.get_duration("providers.vast.start_timeout");
  WakeResult out;
  auto w = store::require_worker(db.sql(), worker);
  auto rerent = [&](const std::string& why) {
    auto r = cloud::rerent(db, e, worker, o.rerent);
    record_wake(db, r.worker, now,
                fmt::format("{}: rented offer {} as instance {}; the disk did not come along{}", why,
                            r.offer_id, r.new_instance,
                            r.old_instance == 0 ? std::string()
                            : r.old_destroyed
                                ? fmt::format("; old instance {} destroyed", r.old_instance)
                                : fmt::format("; old instance {} left stopped", r.old_instance)),
                json{{"old_instance", r.old_instance}, {"new_instance", r.new_instance},
                     {"offer_id", r.offer_id}});
    out.rerented = r;
    out.worker = store::require_worker(db.sql(), worker);
  };
  auto h = store::hibernation_of(db.sql(), w.id);
  if (w.state == "deleted" || !w.provider_ref) {
    rerent("its instance was destroyed");
  } else if (running_state(w.state)) {
    if (w.state == "starting" && h.woke_at && now - *h.woke_at >= start_timeout &&
        stuck_scheduling(db, e, w)) {
      rerent(fmt::format("its start waited for GPUs longer than start_timeout ({})",
                         format_duration(start_timeout)));
    } else {
      throw_conflict("worker '{}' is already {}", worker, w.state);
    }
  } else {
    out.worker = cloud::start_worker(db, e, worker);
    out.started = true;
    record_wake(db, out.worker, now, "wake",
                json{{"instance_id", out.worker.provider_ref.value_or("")}});
    out.worker = store::require_worker(db.sql(), worker);
  }
  if (!o.wait) {
    return out;
  }
  auto t0 = std::chrono::steady_clock::now();
  try {
    out.worker = cloud::wait_until_online(db, e, worker);
  } catch (const Error& err) {
    if (err.kind() != ErrorKind::failure || out.rerented || !stuck_scheduling(db, e, out.worker)) {
      throw;
    }
    rerent(fmt::format("its start waited for GPUs longer than start_timeout ({})",
                       format_duration(start_timeout)));
    out.worker = cloud::wait_until_online(db, e, worker);
  }
  out.took = std::chrono::duration_cast<Seconds>(std::chrono::steady_clock::now() - t0);
  return out;
}

} // namespace gpuctl::hibernate
