#include "gpuctl/core/error.hpp"
#include "gpuctl/store/database.hpp"
#include "gpuctl/store/registry.hpp"
#include "support/support.hpp"

#include <SQLiteCpp/Statement.h>
#include <doctest/doctest.h>
#include <sys/stat.h>

using namespace gpuctl;
using namespace gpuctl::store;

TEST_CASE("a new state file is 0600 in a 0700 directory, WAL, at the newest schema")
{
  test::TempDir dir;
  std::string path = dir / "a/b/state.db";
  {
    auto db = Database::open(path, Access::write);
    CHECK(schema_version(db.sql()) == latest_schema_version());
    CHECK(db.sql().execAndGet("PRAGMA journal_mode").getString() == "wal");
    CHECK(db.sql().execAndGet("PRAGMA foreign_keys").getInt() == 1);
  }
  CHECK(test::file_mode(path) == 0600);
  CHECK(test::file_mode(dir / "a/b") == 0700);
  CHECK(test::file_mode(dir / "a") == 0700);
}

TEST_CASE("reading never creates or changes the file")
{
  test::TempDir dir;
  std::string path = dir / "state.db";
  {
    auto db = Database::open(path, Access::read);
    CHECK(list_accounts(db.sql()).empty());
  }
  CHECK(test::file_mode(path) == -1);
  CHECK(test::file_mode(dir.path()) == 0700); // mkdtemp's own mode: untouched
  {
    auto db = Database::open(path, Access::write_existing);
    CHECK(list_accounts(db.sql()).empty());
  }
  CHECK(test::file_mode(path) == -1);
}

TEST_CASE("writes roll back on error")
{
  test::TempDir dir;
  auto db = Database::open(dir / "state.db", Access::write);
  CHECK_THROWS_AS(db.write([&] {
    AccountRow a;
    a.name = "alice";
    a.provider = "kaggle";
    insert_account(db.sql(), a);
    throw_usage("boom");
  }),
                  Error);
  CHECK(list_accounts(db.sql()).empty());
}

TEST_CASE("a schema-1 DB with data upgrades with its data intact")
{
  test::TempDir dir;
  std::string path = dir / "state.db";
  {
    SQLite::Database raw(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    migrate(raw, 1);
    CHECK(schema_version(raw) == 1);
    raw.exec("INSERT INTO accounts(name, provider, policy_json, created_at) VALUES "
             "('alice', 'kaggle', '{\"weekly_gpu_hours\":20.0}', 1796000000)");
    raw.exec("INSERT INTO workers(name, account_id, provider, gpu, created_at) VALUES "
             "('k1', 1, 'kaggle', 'T4', 1796000001)");
  }
  // Reading an old file serves an upgraded copy and leaves the file at version 1.
  {
    auto db = Database::open(path, Access::read);
    CHECK(schema_version(db.sql()) == latest_schema_version());
    CHECK(find_worker(db.sql(), "k1").has_value());
  }
  {
    SQLite::Database raw(path, SQLite::OPEN_READONLY);
    CHECK(schema_version(raw) == 1);
  }
  auto db = Database::open(path, Access::write);
  CHECK(schema_version(db.sql()) == latest_schema_version());
  auto a = find_account(db.sql(), "alice");
  REQUIRE(a);
  CHECK(a->policy_json == "{\"weekly_gpu_hours\":20.0}");
  CHECK(a->workers == 1);
  auto w = find_worker(db.sql(), "k1");
  REQUIRE(w);
  CHECK(w->gpu == "T4");
  CHECK(w->created_at.time_since_epoch().count() == 1796000001);
  // Migration 2: sessions reference accounts and workers.
  db.sql().exec("INSERT INTO sessions(worker_id, worker_name, account_id, started_at) VALUES (1, 'k1', 1, 1796000100)");
  CHECK(db.sql().execAndGet("SELECT count(*) FROM sessions").getInt() == 1);
}

TEST_CASE("a DB from a newer gpuctl is refused with a conflict")
{
  test::TempDir dir;
  std::string path = dir / "state.db";
  {
    auto db = Database::open(path, Access::write);
    db.sql().exec("PRAGMA user_version = " + std::to_string(latest_schema_version() + 1));
  }
  for (auto access : {Access::read, Access::write}) {
    try {
      Database::open(path, access);
      FAIL("opened");
    } catch (const Error& e) {
      CHECK(e.kind() == ErrorKind::conflict);
      CHECK(std::string(e.what()).find("newer") != std::string::npos);
    }
  }
}

TEST_CASE("a file that is not SQLite is a usage error")
{
  test::TempDir dir;
  std::string path = dir / "state.db";
  test::write_file(path, std::string(4096, 'x'));
  CHECK_THROWS_AS(Database::open(path, Access::read), Error);
}
