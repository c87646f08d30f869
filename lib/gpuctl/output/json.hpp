// SPDX-License-Identifier: MIT
// DESIGN §10 JSON shapes. Instants are RFC 3339 UTC strings or null; durations `_s` integer
// seconds; hours `_h`; money `_usd`. Secrets never appear.
#pragma once
#include "gpuctl/config/config.hpp"
#include "gpuctl/fleet/fleet.hpp"
#include "gpuctl/fleet/status.hpp"
#include "gpuctl/quota/service.hpp"
#include "gpuctl/store/jobs.hpp"
#include "gpuctl/store/registry.hpp"

#include <nlohmann/json.hpp>

#include <optional>

namespace gpuctl::output {

/// RFC 3339 string, or null.
nlohmann::ordered_json instant_json(const std::optional<Instant>& t);

/// worker: {"name","account","provider","gpu","gpu_count","enabled","state","control","host",
/// "instance_id","price_usd_per_hour","gpu_util","last_seen","created","session"}.
/// `session` is null or the object given.
nlohmann::ordered_json worker_json(const store::WorkerRow& w, const nlohmann::ordered_json& session = nullptr);

/// Like worker_json, but reuses `into` when it already holds a worker object: values are
/// overwritten in place (no key lookups, no allocation of keys), which is what makes listing
/// thousands of workers cheap.
void worker_json_into(nlohmann::ordered_json& into, const store::WorkerRow& w,
                      const nlohmann::ordered_json& session = nullptr);

/// account: {"name","provider","workers","credentials","policy":{…},"overrides":[…],"created"}.
nlohmann::ordered_json account_json(const fleet::AccountView& a);

/// worker `session` object: {"id","started","deadline"}.
nlohmann::ordered_json worker_session_json(const quota::OpenSession& s);

/// quota: {"account","provider","status","share","binding","left_h","next_reset","windows":[…],
/// "sessions":[…]} plus "usable_h", "estimated" and, for vast, "spend".
nlohmann::ordered_json quota_json(const quota::AccountQuota& q);

/// session: {"id","worker","account","started","ended","duration_s","reason","deadline"}.
nlohmann::ordered_json session_json(const store::SessionRow& s, std::optional<Instant> deadline,
                            Instant now);

/// status: {"workers":{…},"accounts":{…},"usable_hours_left","utilization"}.
nlohmann::ordered_json status_json(const fleet::PoolStatus& s);

/// config show: {"<section.key>":{"value","source"}}.
nlohmann::ordered_json config_json(const config::Config& cfg);

/// job: {"id","name","state","priority","attempts","max_attempts","worker","provider",
/// "submitted","started","ended","timeout_s","exit_code","output_dir","why_queued",
/// "cancel_requested"}; `provider`
/// is the worker's (or the job's --provider constraint), `why_queued` null unless queued.
nlohmann::ordered_json job_json(const store::JobRow& j, const std::string& provider,
                                const std::string& output_dir,
                                const std::optional<std::string>& why_queued);

/// event: {"id","at","type","worker","job","reason","detail"}; `detail` is the stored object.
nlohmann::ordered_json event_json(const store::EventRow& e);

} // namespace gpuctl::output
