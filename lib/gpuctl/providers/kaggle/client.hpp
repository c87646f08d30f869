// SPDX-License-Identifier: MIT
// The Kaggle client (specs/kaggle-api.md): RPC calls `POST <base>/v1/<Service>/<Method>` with a
// JSON body (§1.2), lowerCamel field names (§1.4), Bearer for API tokens and Basic for legacy keys
// (§2.1). Push a kernel version (§3), its status (§4), its output and log (§5), list kernels
// (§6.1), the account's accelerator quota (§7). Output files are fetched from their signed URLs
// without Kaggle credentials (§5.3).
#pragma once
#include "gpuctl/core/clock.hpp"
#include "gpuctl/net/caller.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace gpuctl::providers::kaggle {

/// Credentials as they travel (§2.1). Never printed.
struct Auth {
  enum class Kind { token, key };
  Kind kind = Kind::key;
  std::string username; ///< legacy key: the owner; token: known after introspection, may be ""
  std::string secret;   ///< the API token or the key
};

/// What to push (§3.1–3.2). `slug` is the kernel slug without owner.
struct PushRequest {
  std::string owner;
  std::string slug;
  std::string title;        ///< new kernels need one (≥ 5 characters)
  std::string text;         ///< script source, or notebook JSON (outputs emptied, §3.3)
  std::string language = "python";
  std::string kernel_type = "script"; ///< script | notebook
  bool is_private = true;
  bool enable_gpu = true;
  bool enable_internet = false;
  std::string machine_shape = "NvidiaTeslaT4"; ///< §3.5
  std::vector<std::string> dataset_sources;    ///< owner/slug
  std::int64_t session_timeout_s = 0;          ///< sent when > 0 (§3.6)
};

struct PushResult {
  std::string ref;
  std::string url;
  std::int64_t version = 0;
  std::int64_t kernel_id = 0;
  std::vector<std::string> dropped_sources; ///< invalid* lists: dropped, the run still starts
};

/// A refused push (HTTP 200 with `error`, §3.4). `no_free_slot` when Kaggle's GPU run limit was
/// reached ("Maximum batch GPU session count"): retry later, the job is fine. Exit 4.
class PushRefused : public Error {
public:
  PushRefused(const std::string& message, bool no_free_slot)
      : Error(ErrorKind::conflict, message), m_no_free_slot(no_free_slot)
  {
  }
  bool no_free_slot() const noexcept { return m_no_free_slot; }

private:
  bool m_no_free_slot;
};

/// HTTP 404 from Kaggle: the kernel does not exist or never had a session (§4 Errors). Exit 3.
class NotFound : public Error {
public:
  explicit NotFound(const std::string& message) : Error(ErrorKind::provider, message) {}
};

/// Latest run of a kernel (§4). `status` in UPPER_SNAKE whatever the server's spelling.
struct KernelStatus {
  std::string status; ///< QUEUED RUNNING COMPLETE ERROR CANCEL_REQUESTED CANCEL_ACKNOWLEDGED NEW_SCRIPT
  std::string failure_message;
  bool terminal() const;
};

struct OutputFile {
  std::string url; ///< signed; fetched without credentials
  std::string file_name;
};
struct Output {
  std::vector<OutputFile> files;
  std::string log; ///< the run's log, a JSON text (§5.1)
};

struct KernelInfo {
  std::string ref; ///< owner/slug
  std::string title;
  std::optional<std::string> last_run_time;
  std::int64_t current_version = 0;
  std::string machine_shape;
};

/// One accelerator's weekly figures, seconds (§7).
struct AcceleratorQuota {
  double used_s = 0;
  double reserved_s = 0; ///< held by runs in progress; gpuctl counts it as spent
  double total_s = 0;
};
struct Quota {
  std::optional<Instant> refresh; ///< when the weekly window resets
  std::optional<AcceleratorQuota> gpu;
  std::optional<AcceleratorQuota> tpu;
};

/// Parses a protobuf Duration string ("108000s", "9108.5s") into seconds; nullopt if malformed.
std::optional<double> parse_duration(const nlohmann::json& v);
/// Normalises an enum spelling (UPPER_SNAKE, lower, lowerCamel) to UPPER_SNAKE (§1.4).
std::string normalise_enum(const std::string& s);

/// Every call throws Error(provider) naming the call for an HTTP error (message from
/// error.message, else message, else the body, §9.2); 401 says the credentials were refused.
class Client {
public:
  /// `base_url` e.g. https://api.kaggle.com (calls go to <base>/v1/...).
  Client(net::Caller& caller, std::string base_url, Auth auth);

  /// security.OAuthService/IntrospectToken (§2.3): whether the token is active, and its user.
  std::pair<bool, std::string> introspect();
  /// SaveKernel. Never retried after an unknown outcome (throws net::CallError with
  /// maybe_delivered; check kernel_status / list_kernels before pushing again). Throws
  /// PushRefused for a 200 with `error`.
  PushResult push(const PushRequest& p);
  /// GetKernelSessionStatus; throws NotFound when the kernel does not exist (or never ran).
  KernelStatus kernel_status(const std::string& owner, const std::string& slug);
  /// ListKernelSessionOutput, every page.
  Output output(const std::string& owner, const std::string& slug);
  /// Downloads one output file to `dest_dir/<file_name>` (sub-directories created). Throws
  /// Error(provider) for an absolute name or one with "..", and for HTTP errors.
  void download(const OutputFile& f, const std::string& dest_dir);
  /// ListKernels group=PROFILE (your own), newest run first.
  std::vector<KernelInfo> list_kernels(int page_size = 50);
  /// GetAcceleratorQuotaStatistics for the authenticated account.
  Quota quota();

  const Auth& auth() const { return m_auth; }

private:
  nlohmann::json rpc(const std::string& service_method, const nlohmann::json& body, bool retry_safe);
  net::Response post(const net::Operation& op, const std::string& service_method,
                     const nlohmann::json& body);
  nlohmann::json parse_ok(const net::Operation& op, const net::Response& r);

  net::Caller& m_caller;
  std::string m_base;
  Auth m_auth;
};

} // namespace gpuctl::providers::kaggle
