// SPDX-License-Identifier: MIT
// The vast.ai REST client (specs/vast-api.md): search offers (§2), create an instance (§3), the
// paginated v1 listing (§4), show one (§5), start/stop (§6), destroy (§7), label (§8). Only the
// Bearer header carries the key (§1.4); never the deprecated v0 listing (§4.1).
#pragma once
#include "gpuctl/net/caller.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace gpuctl::providers::vast {

/// An offer as gpuctl shows it (DESIGN §10 offer); units converted from the API's (§2.3).
struct Offer {
  std::int64_t id = 0;
  std::string gpu;                     ///< gpu_name, e.g. "RTX 4090"
  int num_gpus = 0;
  std::optional<double> gpu_ram_gb;    ///< gpu_ram MB / 1000
  std::optional<double> price_usd_per_hour; ///< dph_total for the requested disk
  std::optional<double> reliability;   ///< 0–1
  std::string region;                  ///< geolocation, "City, CC"
  std::optional<double> disk_gb;       ///< disk_space available
  std::optional<double> inet_down_mbps;
  std::optional<double> cuda;          ///< cuda_max_good
};

/// Filters of `gpuctl offers search`; unset = no filter. The verified/external/rentable defaults
/// of the official CLI apply unless `defaults` is off (§2.1).
struct OfferQuery {
  std::optional<std::string> gpu;      ///< "RTX_4090" or "RTX 4090"
  std::optional<int> num_gpus;
  std::optional<double> max_price;     ///< USD/h, dph_total ≤
  std::vector<std::string> regions;    ///< two-letter country codes
  std::optional<double> min_reliability;
  std::optional<std::int64_t> id;      ///< one offer
  /// Sort keys, comma-separated: price, reliability, score, gpu_ram, inet_down, num_gpus; a
  /// leading '-' sorts descending. Throws Error(usage) for another word.
  std::string order = "price";
  int limit = 20;
  double disk_gb = 16; ///< allocated_storage, prices the disk into dph_total
  /// The official CLI's verified/external defaults (§2.1); off when looking up one offer by id
  /// (rentable still applies).
  bool defaults = true;
};

/// What an instance is created from (and re-created from by `wake`).
struct InstanceSpec {
  std::string image;
  double disk_gb = 16;
  std::string onstart;                     ///< onstart script text, "" = none
  std::map<std::string, std::string> env;  ///< KEY=VALUE pairs
  std::string label;                       ///< gpuctl:<worker id>:<generation>
};

/// One row of the listing (§4.5), the fields gpuctl reads.
struct Instance {
  std::int64_t id = 0;
  std::optional<std::string> actual_status; ///< null while provisioning
  std::string intended_status;
  std::string cur_state;
  std::string label;
  std::string gpu;
  int num_gpus = 0;
  std::optional<double> gpu_util;           ///< percent; null or negative = no sample (§4.7)
  std::optional<double> price_usd_per_hour; ///< dph_total
  std::optional<double> storage_usd_per_hour; ///< storage_total_cost (what a stopped one costs)
  std::string region;
  std::string image;
  std::optional<double> disk_gb;
  std::string onstart; ///< the onstart script, "" when none
  std::string ssh_host; ///< e.g. ssh4.vast.ai (§4.5), "" when none
  int ssh_port = 0;     ///< 0 when none
  /// "root@HOST:PORT" for ssh (vast.ai images log in as root), nullopt without an address.
  std::optional<std::string> ssh_address() const;
};

/// gpuctl's worker state for an instance (§4.6): starting (null/created/loading/rebooting, or a
/// start waiting for its GPUs: "scheduling"), online (running), offline (stopped, exited,
/// frozen, unknown, offline).
std::string worker_state(const Instance& i);
/// Whether a start was asked for but the GPUs are taken (§4.6 "scheduling").
bool scheduling(const Instance& i);

/// A complete listing: every page was fetched.
struct Listing {
  std::vector<Instance> instances;
  int pages = 0;
};

/// Throws Error(provider) naming the call for a non-2xx answer or a 2xx with "success": false;
/// auth failures (401, 403, 404 with auth_error, §9.1) say so. Used by every call.
class Client {
public:
  /// `base_url` without trailing slash; `pace` = `[providers.vast] pace` (0 = none): each
  /// endpoint is then spaced by max(pace, its threshold of §9.4).
  Client(net::Caller& caller, std::string base_url, std::string api_key, net::Millis pace);

  /// POST /api/v0/bundles/ → offers in the requested order.
  std::vector<Offer> search_offers(const OfferQuery& q);
  /// PUT /api/v0/asks/{offer}/ with cancel_unavail true → the new instance id. Never retried
  /// after a timeout/5xx: throws net::CallError with maybe_delivered() so the caller looks for
  /// `spec.label` first. Throws Error(conflict) when the offer is gone (404/410).
  std::int64_t create_instance(std::int64_t offer_id, const InstanceSpec& spec);
  /// GET /api/v1/instances/ page after page (25 each, following next_token). Any failed page
  /// throws: a listing is complete or absent, never partial. `filters` = select_filters.
  Listing list_instances(const nlohmann::json& filters = nlohmann::json::object());
  /// GET /api/v0/instances/{id}/?owner=me; nullopt when gone (null, 400 or 404, §5).
  std::optional<Instance> show_instance(std::int64_t id);
  /// PUT /api/v0/instances/{id}/ {"state": "running"|"stopped"} (idempotent, retried).
  void set_state(std::int64_t id, bool running);
  /// DELETE /api/v0/instances/{id}/; an instance already gone counts as destroyed (§7).
  void destroy_instance(std::int64_t id);
  /// PUT /api/v0/instances/{id}/ {"label": ...}.
  void set_label(std::int64_t id, const std::string& label);

  /// Parses one listing row (exposed for tests).
  static Instance parse_instance(const nlohmann::json& row);

private:
  net::Response send(const net::Operation& op, const std::string& method,
                     const std::string& path_and_query, const std::optional<nlohmann::json>& body);
  /// Classifies an answer (errors → Error(provider)); returns its JSON body (moved out of r).
  nlohmann::json expect_ok(const net::Operation& op, net::Response& r);
  nlohmann::json expect_ok_sent(const net::Operation& op, net::Response r);
  net::Operation op(const std::string& name, bool retry_safe, const std::string& endpoint,
                    double threshold_s) const;

  net::Caller& m_caller;
  std::string m_base;
  std::string m_key;
  std::string m_key_id;
  net::Millis m_pace;
};

/// The label gpuctl gives an instance: `gpuctl:<worker id>:<generation>`.
std::string instance_label(std::int64_t worker_id, int generation);

} // namespace gpuctl::providers::vast
