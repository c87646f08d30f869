#include "gpuctl/config/config.hpp"
#include "gpuctl/core/error.hpp"
#include "support/support.hpp"

#include <doctest/doctest.h>

using namespace gpuctl;
using namespace gpuctl::config;

namespace {

Config
load_text(const test::TempDir& dir, const std::string& text,
          std::map<std::string, std::string> env = {}, std::map<std::string, std::string> flags = {})
{
  std::string path = dir / "config.toml";
  test::write_file(path, text);
  LoadInputs in;
  in.path = path;
  in.flags = flags;
  auto envp = std::make_shared<std::map<std::string, std::string>>(std::move(env));
  in.env = [envp](const char* n) -> const char* {
    auto it = envp->find(n);
    return it == envp->end() ? nullptr : it->second.c_str();
  };
  return Config::load(in);
}

std::string
error_of(const test::TempDir& dir, const std::string& text)
{
  try {
    load_text(dir, text);
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::usage);
    return e.what();
  }
  FAIL("config accepted: " << text);
  return {};
}

} // namespace

TEST_CASE("every DESIGN §4 key has its default")
{
  Config c;
  CHECK(c.get_number("quota.safe_below") == doctest::Approx(0.70));
  CHECK(c.get_number("quota.critical_above") == doctest::Approx(0.90));
  CHECK(c.get_number("providers.kaggle.weekly_gpu_hours") == 30.0);
  CHECK(c.get_string("providers.kaggle.week_reset") == "sat 00:00");
  CHECK(c.get_duration("providers.kaggle.session_max") == Seconds(43200));
  CHECK(c.get_duration("providers.kaggle.shutdown_margin") == Seconds(1800));
  CHECK(c.get_int("providers.kaggle.concurrent") == 2);
  CHECK(c.get_number("providers.colab.daily_gpu_hours") == 12.0);
  CHECK(c.get_int("providers.colab.concurrent") == 1);
  CHECK(c.get_string("providers.vast.base_url") == "https://console.vast.ai");
  CHECK(c.get_int("net.retries") == 4);
  CHECK(c.get_bool("hibernate.enabled"));
  CHECK(c.get_duration_or_never("hibernate.delete_after") == std::nullopt);
  CHECK(c.get_string("autoscale.pool") == "vast");
  CHECK(c.get_int("autoscale.disk_gb") == 32);
  CHECK(c.get_duration("autoscale.boot_timeout") == Seconds(900));
  CHECK(c.get_string("autoscale.account").empty());
  CHECK(key_table().size() == 46);
  for (const auto& e : c.entries()) {
    CHECK(e.source == Source::default_value);
    CHECK_FALSE(e.spec->doc.empty());
  }
}

TEST_CASE("precedence: flag > env > file > default")
{
  test::TempDir dir;
  auto c = load_text(dir,
                     "[display]\ntz = \"Europe/Berlin\"\n[quota]\nsafe_below = 0.6\n"
                     "[providers.kaggle]\nweekly_gpu_hours = 20\nbase_url = \"https://k.example\"\n",
                     {{"GPUCTL_KAGGLE_URL", "http://127.0.0.1:9999"}}, {{"display.tz", "UTC"}});
  CHECK(c.get_number("quota.safe_below") == doctest::Approx(0.6));
  CHECK(c.entry("quota.safe_below").source == Source::file);
  CHECK(c.get_number("providers.kaggle.weekly_gpu_hours") == 20.0); // integer accepted as float
  CHECK(c.get_string("providers.kaggle.base_url") == "http://127.0.0.1:9999");
  CHECK(c.entry("providers.kaggle.base_url").source == Source::env);
  CHECK(c.get_string("display.tz") == "UTC");
  CHECK(c.entry("display.tz").source == Source::flag);
  CHECK(c.entry("net.timeout").source == Source::default_value);
}

TEST_CASE("unknown keys, bad types and malformed files are exit-2 errors with a place")
{
  test::TempDir dir;
  std::string e = error_of(dir, "[quota]\nsafe_bellow = 0.5\n");
  CHECK(e.find("quota.safe_bellow") != std::string::npos);
  CHECK(e.find("line 2") != std::string::npos);
  CHECK(e.find("did you mean 'quota.safe_below'") != std::string::npos);

  e = error_of(dir, "[providers.kagle]\nconcurrent = 1\n");
  CHECK(e.find("providers.kagle") != std::string::npos);

  e = error_of(dir, "[quota]\nsafe_below = \n");
  CHECK(e.find("line 2") != std::string::npos);
  CHECK(e.find("column") != std::string::npos);

  e = error_of(dir, "\n\n[net]\nretries = \"four\"\n");
  CHECK(e.find("net.retries") != std::string::npos);
  CHECK(e.find("line 4") != std::string::npos);

  CHECK(error_of(dir, "[hibernate]\nidle_for = \"3\"\n").find("hibernate.idle_for") != std::string::npos);
  CHECK(error_of(dir, "[providers.kaggle]\nweekly_gpu_hours = -1.0\n").find("≥ 0") != std::string::npos);
  CHECK(error_of(dir, "[providers.kaggle]\nweek_reset = \"saturday\"\n").find("DAY HH:MM") != std::string::npos);
  CHECK(error_of(dir, "[providers.vast]\nbase_url = \"http://vast.example\"\n").find("loopback") != std::string::npos);
  CHECK(error_of(dir, "[autoscale]\npool = \"gcp\"\n").find("vast|ssh|both") != std::string::npos);
  CHECK(error_of(dir, "quota = 1\n").find("quota") != std::string::npos);
  CHECK_NOTHROW(load_text(dir, "[hibernate]\ndelete_after = \"30m\"\n"));
  CHECK_NOTHROW(load_text(dir, "[providers.vast]\nbase_url = \"http://127.0.0.1:8080\"\n"));
}

TEST_CASE("a missing file is fine at the default path, an error at an explicit one")
{
  test::TempDir dir;
  LoadInputs in;
  in.path = dir / "nope.toml";
  CHECK_FALSE(Config::load(in).file_found());
  in.path_explicit = true;
  CHECK_THROWS_AS(Config::load(in), Error);
}
