// SPDX-License-Identifier: MIT
#include "gpuctl/config/keys.hpp"

#include <array>

namespace gpuctl::config {

namespace {

using K = KeyType;

// Sources for provider policy facts: ../shared/specs/kaggle-api.md §10 (Kaggle weekly GPU quota,
// 12 h session cap, 2 GPU sessions at once, Saturday 00:00 UTC reset). Google publishes no Colab
// numbers: those defaults are estimates to adjust.
constexpr std::array k_keys = {
    KeySpec{"display.tz", K::zone, "", "IANA zone for output; \"\" = $TZ, else the system zone"},

    KeySpec{"quota.safe_below", K::number, "0.70",
            "accounts at or above this share are not dispatched to or planned into"},
    KeySpec{"quota.critical_above", K::number, "0.90", "status band boundary (critical)"},

    KeySpec{"providers.kaggle.weekly_gpu_hours", K::number, "30.0",
            "GPU budget per account per week, hours (0 = no weekly window)"},
    KeySpec{"providers.kaggle.week_reset", K::weekly_time, "sat 00:00",
            "weekly reset, day and time in UTC"},
    KeySpec{"providers.kaggle.daily_gpu_hours", K::number, "0.0",
            "GPU budget per account per day, hours (0 = no daily window)"},
    KeySpec{"providers.kaggle.day_reset", K::daily_time, "00:00", "daily reset time in UTC"},
    KeySpec{"providers.kaggle.session_max", K::duration, "12h", "provider cap on one run"},
    KeySpec{"providers.kaggle.shutdown_margin", K::duration, "30m",
            "stop this long before the cap or the budget runs out"},
    KeySpec{"providers.kaggle.concurrent", K::integer, "2", "GPU sessions at once per account"},
    KeySpec{"providers.kaggle.base_url", K::url, "https://api.kaggle.com",
            "Kaggle API base; gpuctl appends /v1/<Service>/<Method>", "GPUCTL_KAGGLE_URL"},

    KeySpec{"providers.colab.daily_gpu_hours", K::number, "12.0",
            "GPU budget per account per day, hours (an estimate: Google publishes none)"},
    KeySpec{"providers.colab.day_reset", K::daily_time, "00:00", "daily reset time in UTC"},
    KeySpec{"providers.colab.weekly_gpu_hours", K::number, "0.0",
            "GPU budget per account per week, hours (0 = no weekly window)"},
    KeySpec{"providers.colab.week_reset", K::weekly_time, "sat 00:00",
            "weekly reset, day and time in UTC"},
    KeySpec{"providers.colab.session_max", K::duration, "12h", "cap on one session"},
    KeySpec{"providers.colab.shutdown_margin", K::duration, "30m",
            "stop this long before the cap or the budget runs out"},
    KeySpec{"providers.colab.concurrent", K::integer, "1", "GPU sessions at once per account"},

    KeySpec{"providers.vast.max_usd_per_day", K::number, "0.0",
            "USD per account per day (0 = no limit); rent/wake refused when exceeded"},
    KeySpec{"providers.vast.pace", K::duration, "1s",
            "minimum gap between calls to one endpoint with one key (all processes)"},
    KeySpec{"providers.vast.base_url", K::url, "https://console.vast.ai", "vast.ai API base",
            "GPUCTL_VAST_URL"},
    KeySpec{"providers.vast.start_timeout", K::duration, "5m",
            "a start still \"scheduling\" after this → wake re-rents"},

    KeySpec{"net.connect_timeout", K::duration, "10s", "TCP/TLS connect timeout"},
    KeySpec{"net.timeout", K::duration, "60s", "total timeout of one HTTP call"},
    KeySpec{"net.retries", K::integer, "4", "attempts after the first, for retry-safe operations"},

    KeySpec{"scheduler.tick", K::duration, "60s", "interval between scheduler ticks (--watch)"},
    KeySpec{"scheduler.heartbeat_timeout", K::duration, "3m",
            "a worker unseen this long is offline"},

    KeySpec{"hibernate.enabled", K::boolean, "true", "hibernate idle vast instances"},
    KeySpec{"hibernate.idle_gpu_below", K::number, "5.0", "GPU utilisation below this is idle, percent"},
    KeySpec{"hibernate.idle_for", K::duration, "3m", "idle this long → hibernate"},
    KeySpec{"hibernate.grace", K::duration, "10m", "no idle decision this long after a start or wake"},
    KeySpec{"hibernate.delete_after", K::duration_or_never, "never",
            "hibernated this long → destroy (spec kept); a duration or \"never\""},
    KeySpec{"hibernate.sweep_interval", K::duration, "1m",
            "how often cron runs the sweep; samples further apart than 2× this break idleness"},

    KeySpec{"autoscale.dask_url", K::string, "", "the Dask scheduler's HTTP API, http://HOST:8787"},
    KeySpec{"autoscale.scheduler", K::string, "", "what workers connect to, tcp://HOST:8786"},
    KeySpec{"autoscale.min", K::integer, "0", "fewest GPU workers"},
    KeySpec{"autoscale.max", K::integer, "4", "most GPU workers"},
    KeySpec{"autoscale.step_up", K::integer, "2", "most workers added in one tick"},
    KeySpec{"autoscale.scale_down_after", K::duration, "10m", "low demand this long → scale down"},
    KeySpec{"autoscale.pool", K::choice, "vast", "where workers come from", {}, "vast|ssh|both"},
    KeySpec{"autoscale.gpu", K::string, "RTX_4090", "GPU model of rented workers"},
    KeySpec{"autoscale.max_usd_per_hour", K::number, "1.0", "most USD per hour per rented worker"},
    KeySpec{"autoscale.image", K::string, "ghcr.io/dask/dask:latest", "image of rented workers"},
    KeySpec{"autoscale.disk_gb", K::integer, "32", "disk of rented workers, GB"},
    KeySpec{"autoscale.boot_timeout", K::duration, "15m",
            "a started worker that has not joined Dask by then is stopped again"},
    KeySpec{"autoscale.account", K::string, "", "vast account to rent on (\"\" = the only one)"},
};

constexpr std::array<std::string_view, 9> k_sections = {
    "display", "quota",     "providers.kaggle", "providers.colab", "providers.vast",
    "net",     "scheduler", "hibernate",        "autoscale"};

} // namespace

std::span<const KeySpec>
key_table()
{
  return k_keys;
}

const KeySpec*
find_key(std::string_view name)
{
  for (const auto& k : k_keys) {
    if (k.name == name) {
      return &k;
    }
  }
  return nullptr;
}

std::span<const std::string_view>
sections()
{
  return k_sections;
}

std::string_view
type_name(KeyType t)
{
  switch (t) {
  case KeyType::boolean: return "boolean";
  case KeyType::integer: return "integer";
  case KeyType::number: return "float";
  case KeyType::string: return "string";
  case KeyType::duration: return "duration";
  case KeyType::duration_or_never: return "duration or \"never\"";
  case KeyType::weekly_time: return "\"DAY HH:MM\"";
  case KeyType::daily_time: return "\"HH:MM\"";
  case KeyType::url: return "URL";
  case KeyType::zone: return "time zone";
  case KeyType::choice: return "choice";
  }
  return "?";
}

} // namespace gpuctl::config
