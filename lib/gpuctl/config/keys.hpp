// SPDX-License-Identifier: MIT
#pragma once
#include <span>
#include <string_view>

namespace gpuctl::config {

/// The type of a config value; it fixes how the TOML value is checked.
enum class KeyType {
  boolean,
  integer,           ///< whole number ≥ 0
  number,            ///< integer or float ≥ 0
  string,
  duration,          ///< DESIGN §9 duration string ("12h")
  duration_or_never, ///< a duration or "never"
  weekly_time,       ///< "sat 00:00" (UTC)
  daily_time,        ///< "00:00" (UTC)
  url,               ///< https://…, or http:// on loopback only (DESIGN §4)
  zone,              ///< "" or an IANA zone name
  choice,            ///< one of `choices` ("a|b|c")
};

/// One config key (DESIGN §4). This table is the single source for the loader, `config show`
/// and the gpuctl.toml(5) page.
struct KeySpec {
  std::string_view name;         ///< "section.key", e.g. "providers.kaggle.session_max"
  KeyType type;
  std::string_view default_text; ///< the default as text ("30.0", "12h", "true", "")
  std::string_view doc;          ///< one line
  std::string_view env = {};     ///< environment variable that overrides it, if any
  std::string_view choices = {}; ///< for KeyType::choice: "vast|ssh|both"
};

/// Every key, in DESIGN §4 order.
std::span<const KeySpec> key_table();

/// The spec of `name`, or nullptr.
const KeySpec* find_key(std::string_view name);

/// The section names that may appear as TOML tables ("display", "providers.kaggle", …).
std::span<const std::string_view> sections();

/// The TOML type name shown in docs ("float", "duration", …).
std::string_view type_name(KeyType t);

} // namespace gpuctl::config
