// SPDX-License-Identifier: MIT
#include "app.hpp"

#include "gpuctl/core/error.hpp"
#include "gpuctl/net/interrupt.hpp"
#include "gpuctl/store/provider_state.hpp"
#include "gpuctl/output/table.hpp"

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <limits>
#include <unistd.h>

namespace gpuctl::app {

namespace {

const char*
getenv_nonempty(const char* name)
{
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? v : nullptr;
}

std::string
xdg_path(const char* xdg_var, const char* home_suffix, const char* leaf)
{
  if (const char* x = getenv_nonempty(xdg_var); x != nullptr && x[0] == '/') {
    return std::string(x) + "/gpuctl/" + leaf;
  }
  const char* home = getenv_nonempty("HOME");
  if (home == nullptr) {
    throw_usage("neither {} nor HOME is set: pass the path explicitly", xdg_var);
  }
  return std::string(home) + home_suffix + "/gpuctl/" + leaf;
}

} // namespace

Context::Context(const Globals& g) : m_g(g)
{
  m_clock = make_clock(std::getenv("GPUCTL_NOW"));

  if (!g.db.empty()) {
    m_db_path = g.db;
  } else if (const char* v = getenv_nonempty("GPUCTL_DB")) {
    m_db_path = v;
  } else {
    m_db_path = xdg_path("XDG_STATE_HOME", "/.local/state", "state.db");
  }

  config::LoadInputs in;
  if (!g.config.empty()) {
    in.path = g.config;
    in.path_explicit = true;
  } else if (const char* v = getenv_nonempty("GPUCTL_CONFIG")) {
    in.path = v;
    in.path_explicit = true;
  } else {
    in.path = xdg_path("XDG_CONFIG_HOME", "/.config", "config.toml");
  }
  m_config_path = in.path;
  if (!g.tz.empty()) {
    in.flags["display.tz"] = g.tz;
  }
  in.env = [](const char* name) { return std::getenv(name); };
  m_config = config::Config::load(in);
  m_color = !g.json && output::use_color(g.no_color);
  if (!g.tz.empty() || !m_config.get_string("display.tz").empty()) {
    zone(); // an explicit zone must be a real one, even when no output uses it
  }
}

const DisplayZone&
Context::zone()
{
  if (!m_zone) {
    m_zone = DisplayZone::resolve(m_config.get_string("display.tz"));
  }
  return *m_zone;
}

std::string
Context::jobs_root() const
{
  return xdg_path("XDG_DATA_HOME", "/.local/share", "jobs");
}

providers::EnvLookup
Context::env() const
{
  return [](const char* name) { return std::getenv(name); };
}

store::Database
Context::open(store::Access access) const
{
  return store::Database::open(m_db_path, access);
}

void
Context::print_json(const nlohmann::ordered_json& j) const
{
  // Indented for a person at a terminal; compact for scripts (a third of the bytes).
  std::string s = stdout_is_tty() ? j.dump(2) : j.dump();
  s += '\n';
  write_stdout(s);
}

bool
Context::stdout_is_tty()
{
  static const bool tty = ::isatty(STDOUT_FILENO) == 1;
  return tty;
}

void
Context::write_stdout(const std::string& s)
{
  std::fwrite(s.data(), 1, s.size(), stdout);
}

void
Context::note(const std::string& line) const
{
  if (!m_g.quiet && !m_g.json) {
    std::cerr << line << '\n';
  }
}

void
Context::warn(const std::string& line) const
{
  if (!m_g.quiet) {
    std::cerr << "gpuctl: warning: " << line << '\n';
  }
}

cloud::Env&
Context::cloud()
{
  if (m_cloud) {
    return *m_cloud;
  }
  net::install_interrupt_handlers();
  try {
    m_transport = net::make_curl_transport();
  } catch (const net::TransportError& e) {
    throw Error(ErrorKind::provider, e.what());
  }
  m_sleeper = std::make_unique<net::SignalSleeper>();
#ifdef GPUCTL_TEST_HOOKS
  // Test builds: GPUCTL_TEST_SLEEP=record reports each wait on stderr instead of sleeping, so CLI
  // tests check backoff and Retry-After without waiting (DESIGN §11: no test sleeps).
  if (const char* t = std::getenv("GPUCTL_TEST_SLEEP"); t != nullptr && std::string_view(t) == "record") {
    struct Reporting final : net::Sleeper {
      void sleep(net::Millis d) override { std::cerr << "gpuctl: test: sleep " << d.count() << " ms\n"; }
    };
    m_sleeper = std::make_unique<Reporting>();
  }
#endif
  net::RetryPolicy policy;
  policy.retries = static_cast<int>(m_config.get_int("net.retries"));
  net::Timeouts timeouts;
  timeouts.connect_s = static_cast<double>(m_config.get_duration("net.connect_timeout").count());
  timeouts.total_s = static_cast<double>(m_config.get_duration("net.timeout").count());
  m_caller = std::make_unique<net::Caller>(*m_transport, *m_sleeper, *m_clock, policy, timeouts);
  const char* debug = std::getenv("GPUCTL_DEBUG");
  if (m_g.verbose || (debug != nullptr && std::string_view(debug) == "1")) {
    m_caller->set_log([](const std::string& line) { std::cerr << "gpuctl: " << line << '\n'; });
  }
  // Pacing across processes: each reservation is one short write transaction on the state file
  // (never held during the HTTP call). Wall-clock time, not GPUCTL_NOW: it spaces real calls.
  m_caller->set_pacer([path = m_db_path](const std::string& endpoint, const std::string& key,
                                         net::Millis gap) {
    auto db = store::Database::open(path, store::Access::write_existing);
    auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
    return net::Millis(db.write([&] {
      return store::reserve_api_call(db.sql(), "vast", endpoint, key, gap.count(), now_ms);
    }));
  });
  m_cloud.reset(new cloud::Env{*m_caller, *m_sleeper, m_config, env(), *m_clock, {}});
  return *m_cloud;
}

void
Context::flush_warnings()
{
  if (!m_cloud) {
    return;
  }
  for (const auto& w : m_cloud->warnings) {
    warn(w);
  }
  m_cloud->warnings.clear();
}

void
Registry::on(CLI::App* sub, Action action)
{
  sub->callback([this, action = std::move(action)] { selected = action; });
}

void
Registry::on_plain(CLI::App* sub, std::function<int()> action)
{
  sub->callback([this, action = std::move(action)] { selected_plain = action; });
}

namespace {

std::string
plain_number(const std::string& s, bool allow_point)
{
  bool digit = false, point = false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c >= '0' && c <= '9') {
      digit = true;
    } else if (c == '.' && allow_point && !point && digit && i + 1 < s.size()) {
      point = true;
    } else {
      digit = false;
      break;
    }
  }
  if (!digit || s.size() > 12) {
    return allow_point ? "expected a number such as 12 or 1.5, got '" + s + "'"
                       : "expected a whole number, got '" + s + "'";
  }
  return {};
}

} // namespace

const CLI::Validator&
decimal_arg()
{
  static const CLI::Validator v([](std::string& s) { return plain_number(s, true); }, "NUMBER");
  return v;
}

const CLI::Validator&
whole_arg()
{
  static const CLI::Validator v(
      [](std::string& s) -> std::string {
        std::string bad = plain_number(s, false);
        if (bad.empty() && std::stoll(s) > std::numeric_limits<int>::max()) {
          return fmt::format("expected a whole number up to {}, got '{}'",
                             std::numeric_limits<int>::max(), s);
        }
        return bad;
      },
      "INT");
  return v;
}

const CLI::Validator&
id_arg()
{
  static const CLI::Validator v([](std::string& s) { return plain_number(s, false); }, "INT");
  return v;
}

const CLI::Validator&
signed_whole_arg()
{
  static const CLI::Validator v(
      [](std::string& s) -> std::string {
        std::string_view d = s;
        if (!d.empty() && d.front() == '-') {
          d.remove_prefix(1);
        }
        bool ok = !d.empty() && d.size() <= 9 && d.find_first_not_of("0123456789") == std::string_view::npos &&
                  (d.size() == 1 || d.front() != '0');
        return ok ? std::string() : "expected a whole number such as 5 or -5, got '" + s + "'";
      },
      "INT");
  return v;
}

const CLI::Validator&
nonempty_arg()
{
  static const CLI::Validator v(
      [](std::string& s) -> std::string { return s.empty() ? "must not be empty" : ""; }, "TEXT");
  return v;
}

std::string
local_or_dash(Context& ctx, const std::optional<Instant>& t)
{
  return t ? ctx.zone().format(*t) : "-";
}

} // namespace gpuctl::app
