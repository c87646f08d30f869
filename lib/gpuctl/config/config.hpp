// SPDX-License-Identifier: MIT
#pragma once
#include "gpuctl/config/keys.hpp"
#include "gpuctl/core/duration.hpp"

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace gpuctl::config {

/// A config value as TOML typed it (numbers as double, whole numbers as int64).
using Value = std::variant<bool, std::int64_t, double, std::string>;

/// Where an effective value came from; precedence flag > env > file > default (DESIGN §4).
enum class Source { default_value, file, env, flag };
std::string_view to_string(Source s);

/// One effective key.
struct Entry {
  const KeySpec* spec;
  Value value;
  Source source;
};

/// What the loader reads. `env` looks up an environment variable (nullptr when unset).
struct LoadInputs {
  std::string path;                         ///< the config file to read
  bool path_explicit = false;               ///< from --config / GPUCTL_CONFIG: must exist
  std::map<std::string, std::string> flags; ///< key name → value text, from command-line flags
  std::function<const char*(const char*)> env;
};

/// The effective configuration: every key of the table with its value and source.
class Config {
public:
  /// All defaults; no file.
  Config();

  /// Reads the TOML file (a missing file at the default path is fine; at an explicit path it
  /// is an error), then environment and flag overrides. Throws Error(usage) for malformed TOML
  /// (line and column), an unknown key (key, line, "did you mean"), a wrong type or an invalid
  /// value (key and line).
  static Config load(const LoadInputs& in);

  const std::string& path() const { return m_path; }
  bool file_found() const { return m_file_found; }
  /// Every key in table order.
  const std::vector<Entry>& entries() const { return m_entries; }
  /// The entry of `name`; throws std::out_of_range for a name not in the table (a bug).
  const Entry& entry(std::string_view name) const;

  bool get_bool(std::string_view name) const;
  std::int64_t get_int(std::string_view name) const;
  double get_number(std::string_view name) const;
  std::string get_string(std::string_view name) const;
  Seconds get_duration(std::string_view name) const;
  /// nullopt = "never".
  std::optional<Seconds> get_duration_or_never(std::string_view name) const;

private:
  void set(const KeySpec& spec, Value v, Source s);
  /// Cross-key and range rules (shares in (0, 1], safe ≤ critical, concurrent ≥ 1, margin <
  /// cap, autoscale min ≤ max). Throws Error(usage).
  void check_ranges() const;
  std::string m_path;
  bool m_file_found = false;
  std::vector<Entry> m_entries;
};

/// Checks a value against its key's type and rules; returns the normalised value.
/// Throws Error(usage) with `where` (e.g. "line 3 of /path/config.toml") in the message.
Value check_value(const KeySpec& spec, const Value& v, std::string_view where);

/// Display text of a value ("0.7", "12h", "true", "\"\"").
std::string value_text(const Value& v);

/// Checks a base URL given as option `name`: https://, or http:// only to a loopback address,
/// with a host and no credentials (DESIGN §4). Throws Error(usage) naming `name`.
void check_base_url(std::string_view name, const std::string& url);

} // namespace gpuctl::config
