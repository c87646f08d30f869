// SPDX-License-Identifier: MIT
#include "gpuctl/config/config.hpp"

#include "gpuctl/core/error.hpp"
#include "gpuctl/core/names.hpp"

#define TOML_HEADER_ONLY 1
#define TOML_ENABLE_FORMATTERS 0
#include <toml++/toml.h>

#include <algorithm>
#include <cstdlib>
#include <sstream>
#include <sys/stat.h>

namespace gpuctl::config {

namespace {

Value
default_value(const KeySpec& k)
{
  std::string t(k.default_text);
  switch (k.type) {
  case KeyType::boolean: return t == "true";
  case KeyType::integer: return static_cast<std::int64_t>(std::stoll(t));
  case KeyType::number: return std::stod(t);
  default: return t;
  }
}

bool
is_loopback_host(std::string_view host)
{
  if (host == "localhost" || host == "[::1]") {
    return true;
  }
  // A dotted IPv4 address in 127.0.0.0/8: four all-digit octets ≤ 255.
  int octets = 0;
  size_t pos = 0;
  std::string_view first;
  while (pos <= host.size()) {
    size_t dot = host.find('.', pos);
    if (dot == std::string_view::npos) dot = host.size();
    std::string_view part = host.substr(pos, dot - pos);
    if (part.empty() || part.size() > 3 ||
        !std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
        std::stoi(std::string(part)) > 255) {
      return false;
    }
    if (octets == 0) first = part;
    ++octets;
    pos = dot + 1;
  }
  return octets == 4 && first == "127";
}

void
check_url(std::string_view name, const std::string& url, std::string_view where)
{
  std::string_view rest;
  bool http = false;
  if (url.starts_with("https://")) {
    rest = std::string_view(url).substr(8);
  } else if (url.starts_with("http://")) {
    rest = std::string_view(url).substr(7);
    http = true;
  } else {
    throw_usage("invalid {} '{}'{}: expected an https:// URL", name, url, where);
  }
  auto host_end = rest.find_first_of("/?#");
  std::string_view hostport = rest.substr(0, host_end);
  if (auto at = hostport.rfind('@'); at != std::string_view::npos) {
    // Shown without them: the message may end up in cron mail or a CI log.
    std::string shown = url.substr(0, url.size() - rest.size()) + "[REDACTED]" +
                        std::string(rest.substr(at));
    throw_usage("invalid {} '{}'{}: credentials do not belong in a URL", name, shown, where);
  }
  std::string_view host = hostport;
  if (host.starts_with("[")) {
    host = host.substr(0, host.find(']') + 1);
  } else if (auto colon = host.rfind(':'); colon != std::string_view::npos) {
    host = host.substr(0, colon);
  }
  if (host.empty()) {
    throw_usage("invalid {} '{}'{}: no host", name, url, where);
  }
  if (http && !is_loopback_host(host)) {
    throw_usage("invalid {} '{}'{}: plain http:// is allowed only for loopback addresses; use "
                "https://",
                name, url, where);
  }
}

bool
valid_hhmm(std::string_view s)
{
  return s.size() == 5 && std::isdigit(static_cast<unsigned char>(s[0])) &&
         std::isdigit(static_cast<unsigned char>(s[1])) && s[2] == ':' &&
         std::isdigit(static_cast<unsigned char>(s[3])) &&
         std::isdigit(static_cast<unsigned char>(s[4])) && (s[0] - '0') * 10 + (s[1] - '0') < 24 &&
         (s[3] - '0') * 10 + (s[4] - '0') < 60;
}

std::string
where_text(const toml::source_region& src, const std::string& path)
{
  return fmt::format(" at line {} of {}", src.begin.line, path);
}

} // namespace

std::string_view
to_string(Source s)
{
  switch (s) {
  case Source::default_value: return "default";
  case Source::file: return "file";
  case Source::env: return "env";
  case Source::flag: return "flag";
  }
  return "?";
}

std::string
value_text(const Value& v)
{
  return std::visit(
      [](const auto& x) -> std::string {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, bool>) {
          return x ? "true" : "false";
        } else if constexpr (std::is_same_v<T, std::string>) {
          return x;
        } else {
          return fmt::format("{}", x);
        }
      },
      v);
}

Value
check_value(const KeySpec& spec, const Value& v, std::string_view where)
{
  auto type_error = [&]() -> Value {
    throw_usage("config key '{}'{}: expected {}, got '{}'", spec.name, where, type_name(spec.type),
                value_text(v));
  };
  switch (spec.type) {
  case KeyType::boolean:
    if (!std::holds_alternative<bool>(v)) {
      return type_error();
    }
    return v;
  case KeyType::integer: {
    if (!std::holds_alternative<std::int64_t>(v)) {
      return type_error();
    }
    if (std::get<std::int64_t>(v) < 0) {
      throw_usage("config key '{}'{}: must not be negative", spec.name, where);
    }
    return v;
  }
  case KeyType::number: {
    double d = 0;
    if (auto* i = std::get_if<std::int64_t>(&v)) {
      d = static_cast<double>(*i);
    } else if (auto* f = std::get_if<double>(&v)) {
      d = *f;
    } else {
      return type_error();
    }
    if (!(d >= 0) || d > 1e9) {
      throw_usage("config key '{}'{}: must be a number ≥ 0, got {}", spec.name, where, d);
    }
    return d;
  }
  default: break;
  }
  if (!std::holds_alternative<std::string>(v)) {
    return type_error();
  }
  const std::string& s = std::get<std::string>(v);
  std::string what = fmt::format("value of '{}'{}", spec.name, where);
  switch (spec.type) {
  case KeyType::duration: parse_duration(s, what); break;
  case KeyType::duration_or_never: parse_duration_or_never(s, what); break;
  case KeyType::daily_time:
    if (!valid_hhmm(s)) {
      throw_usage("config key '{}'{}: expected \"HH:MM\" (UTC), got '{}'", spec.name, where, s);
    }
    break;
  case KeyType::weekly_time: {
    static constexpr std::string_view days[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
    bool ok = s.size() == 9 && s[3] == ' ' && valid_hhmm(std::string_view(s).substr(4));
    ok = ok && std::find(std::begin(days), std::end(days), std::string_view(s).substr(0, 3)) !=
                   std::end(days);
    if (!ok) {
      throw_usage("config key '{}'{}: expected \"DAY HH:MM\" such as \"sat 00:00\" (UTC), got "
                  "'{}'",
                  spec.name, where, s);
    }
    break;
  }
  case KeyType::url: check_url(spec.name, s, where); break;
  case KeyType::choice: {
    std::string_view choices = spec.choices;
    bool found = false;
    size_t pos = 0;
    while (pos <= choices.size()) {
      size_t bar = choices.find('|', pos);
      if (bar == std::string_view::npos) {
        bar = choices.size();
      }
      found = found || choices.substr(pos, bar - pos) == s;
      pos = bar + 1;
    }
    if (!found) {
      throw_usage("config key '{}'{}: expected one of {}, got '{}'", spec.name, where, choices, s);
    }
    break;
  }
  default: break;
  }
  return v;
}

Config::Config()
{
  for (const auto& k : key_table()) {
    m_entries.push_back({&k, default_value(k), Source::default_value});
  }
}

void
Config::set(const KeySpec& spec, Value v, Source s)
{
  for (auto& e : m_entries) {
    if (e.spec == &spec) {
      e.value = std::move(v);
      e.source = s;
      return;
    }
  }
}

Config
Config::load(const LoadInputs& in)
{
  Config c;
  c.m_path = in.path;
  struct stat st {};
  bool exists = !in.path.empty() && ::stat(in.path.c_str(), &st) == 0;
  if (!exists && in.path_explicit) {
    throw_usage("config file '{}' does not exist", in.path);
  }
  if (exists) {
    c.m_file_found = true;
    toml::table root;
    try {
      root = toml::parse_file(in.path);
    } catch (const toml::parse_error& e) {
      throw_usage("malformed config {} at line {}, column {}: {}", in.path, e.source().begin.line,
                  e.source().begin.column, e.description());
    }
    std::vector<std::string_view> all_names;
    for (const auto& k : key_table()) {
      all_names.push_back(k.name);
    }
    std::function<void(const toml::table&, const std::string&)> walk =
        [&](const toml::table& t, const std::string& prefix) {
          for (const auto& [key, node] : t) {
            std::string full = prefix.empty() ? std::string(key.str())
                                              : prefix + "." + std::string(key.str());
            std::string where = where_text(node.source(), in.path);
            if (const toml::table* sub = node.as_table()) {
              bool is_section_or_parent = false;
              for (auto s : sections()) {
                is_section_or_parent =
                    is_section_or_parent || s == full || s.starts_with(full + ".");
              }
              if (is_section_or_parent) {
                walk(*sub, full);
                continue;
              }
            }
            const KeySpec* spec = find_key(full);
            if (spec == nullptr) {
              std::string hint = did_you_mean(full, all_names);
              throw_usage("unknown config key '{}'{}{}", full, where,
                          hint.empty() ? std::string() : fmt::format(": did you mean '{}'?", hint));
            }
            Value v;
            if (auto b = node.value<bool>(); b && node.is_boolean()) {
              v = *b;
            } else if (node.is_integer()) {
              v = *node.value<std::int64_t>();
            } else if (node.is_floating_point()) {
              v = *node.value<double>();
            } else if (node.is_string()) {
              v = *node.value<std::string>();
            } else {
              throw_usage("config key '{}'{}: expected {}", full, where, type_name(spec->type));
            }
            c.set(*spec, check_value(*spec, v, where), Source::file);
          }
        };
    walk(root, "");
  }
  for (const auto& k : key_table()) {
    if (!k.env.empty() && in.env) {
      std::string env_name(k.env);
      if (const char* v = in.env(env_name.c_str()); v != nullptr && *v != '\0') {
        c.set(k, check_value(k, std::string(v), fmt::format(" (from {})", k.env)), Source::env);
      }
    }
  }
  for (const auto& [name, text] : in.flags) {
    const KeySpec* k = find_key(name);
    if (k != nullptr) {
      c.set(*k, check_value(*k, text, " (from a flag)"), Source::flag);
    }
  }
  c.check_ranges();
  return c;
}

void
Config::check_ranges() const
{
  auto where = [&](std::string_view key) {
    const Entry& e = entry(key);
    return e.source == Source::default_value ? std::string(" (default)")
                                             : fmt::format(" (from the {})", to_string(e.source));
  };
  double safe = get_number("quota.safe_below"), critical = get_number("quota.critical_above");
  if (!(safe > 0 && safe <= 1)) {
    throw_usage("config key 'quota.safe_below'{}: must be in (0, 1], got {}", where("quota.safe_below"), safe);
  }
  if (!(critical > 0 && critical <= 1)) {
    throw_usage("config key 'quota.critical_above'{}: must be in (0, 1], got {}",
                where("quota.critical_above"), critical);
  }
  if (safe > critical) {
    throw_usage("config keys 'quota.safe_below' ({}) and 'quota.critical_above' ({}): the safe "
                "share must not exceed the critical one",
                safe, critical);
  }
  for (const char* k : {"net.timeout", "net.connect_timeout"}) {
    if (get_duration(k).count() < 1) { // 0 would mean "no limit" to libcurl
      throw_usage("config key '{}'{}: must be at least 1s", k, where(k));
    }
  }
  if (get_int("net.retries") < 0 || get_int("net.retries") > 20) {
    throw_usage("config key 'net.retries'{}: must be between 0 and 20", where("net.retries"));
  }
  for (std::string p : {"providers.kaggle.", "providers.colab."}) {
    if (get_int(p + "concurrent") < 1) {
      throw_usage("config key '{}concurrent'{}: must be at least 1", p, where(p + "concurrent"));
    }
    if (get_duration(p + "session_max").count() <= 0 ||
        get_duration(p + "shutdown_margin") >= get_duration(p + "session_max")) {
      throw_usage("config keys '{0}session_max' and '{0}shutdown_margin': the margin must be "
                  "shorter than the cap",
                  p);
    }
  }
  if (get_int("autoscale.min") > get_int("autoscale.max")) {
    throw_usage("config keys 'autoscale.min' ({}) and 'autoscale.max' ({}): min exceeds max",
                get_int("autoscale.min"), get_int("autoscale.max"));
  }
}

const Entry&
Config::entry(std::string_view name) const
{
  for (const auto& e : m_entries) {
    if (e.spec->name == name) {
      return e;
    }
  }
  throw std::out_of_range(fmt::format("no config key {}", name));
}

bool
Config::get_bool(std::string_view name) const
{
  return std::get<bool>(entry(name).value);
}

std::int64_t
Config::get_int(std::string_view name) const
{
  return std::get<std::int64_t>(entry(name).value);
}

double
Config::get_number(std::string_view name) const
{
  return std::get<double>(entry(name).value);
}

std::string
Config::get_string(std::string_view name) const
{
  return std::get<std::string>(entry(name).value);
}

Seconds
Config::get_duration(std::string_view name) const
{
  return parse_duration(get_string(name), name);
}

std::optional<Seconds>
Config::get_duration_or_never(std::string_view name) const
{
  return parse_duration_or_never(get_string(name), name);
}

void
check_base_url(std::string_view name, const std::string& url)
{
  check_url(name, url, "");
}

} // namespace gpuctl::config
