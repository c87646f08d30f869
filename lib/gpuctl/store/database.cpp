// SPDX-License-Identifier: MIT
#include "gpuctl/store/database.hpp"
#include "gpuctl/store/state_error.hpp"

#include "gpuctl/core/error.hpp"

#include <SQLiteCpp/Backup.h>
#include <sqlite3.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fcntl.h>
#include <random>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

namespace gpuctl::store {

namespace {

bool
is_busy(const SQLite::Exception& e)
{
  int code = e.getErrorCode() & 0xff;
  return code == SQLITE_BUSY || code == SQLITE_LOCKED;
}

// Retries `fn` while SQLite reports the file busy: the 5 s busy timeout covers most waits; this
// covers the cases where SQLite returns SQLITE_BUSY without calling the busy handler.
template <typename Fn>
void
retry_busy(Fn&& fn)
{
  using namespace std::chrono;
  auto deadline = steady_clock::now() + seconds(60);
  std::minstd_rand rng(static_cast<unsigned>(::getpid()));
  int delay_ms = 5;
  for (;;) {
    try {
      fn();
      return;
    } catch (const SQLite::Exception& e) {
      if (!is_busy(e)) {
        throw;
      }
      if (steady_clock::now() > deadline) {
        throw Error(ErrorKind::conflict,
                    "the state file is busy: another gpuctl kept it locked for over 60 s");
      }
    }
    std::this_thread::sleep_for(milliseconds(delay_ms + static_cast<int>(rng() % 10)));
    delay_ms = std::min(delay_ms * 2, 200);
  }
}

// mkdir -p, creating missing directories 0700 (XDG base directory spec).
void
make_dirs(const std::string& dir)
{
  if (dir.empty()) {
    return;
  }
  struct stat st {};
  if (::stat(dir.c_str(), &st) == 0) {
    if (!S_ISDIR(st.st_mode)) {
      throw_usage("cannot create state directory '{}': a file is in the way", dir);
    }
    return;
  }
  auto slash = dir.find_last_of('/');
  if (slash != std::string::npos && slash > 0) {
    make_dirs(dir.substr(0, slash));
  }
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    throw_usage("cannot create state directory '{}': {}", dir, std::strerror(errno));
  }
}

std::string
parent_dir(const std::string& path)
{
  auto slash = path.find_last_of('/');
  if (slash == std::string::npos) {
    return {};
  }
  return slash == 0 ? "/" : path.substr(0, slash);
}

void
configure(SQLite::Database& db)
{
  db.exec("PRAGMA busy_timeout = 5000");
  db.exec("PRAGMA foreign_keys = ON");
}

void
check_not_newer(SQLite::Database& db, const std::string& path)
{
  int v = schema_version(db);
  if (v > latest_schema_version()) {
    throw_conflict("state file '{}' has schema version {}, newer than this gpuctl understands "
                   "({}); upgrade gpuctl",
                   path, v, latest_schema_version());
  }
}

std::unique_ptr<SQLite::Database>
fresh_memory_db()
{
  auto mem = std::make_unique<SQLite::Database>(":memory:", SQLite::OPEN_READWRITE);
  configure(*mem);
  migrate(*mem, latest_schema_version());
  return mem;
}

} // namespace

Database
Database::open(const std::string& path, Access access)
{
  struct stat st {};
  bool exists = ::stat(path.c_str(), &st) == 0;
  if (!exists && errno != ENOENT) {
    throw_usage("cannot access state file '{}': {}", path, std::strerror(errno));
  }
  if (exists && S_ISDIR(st.st_mode)) {
    throw_usage("state file '{}' is a directory", path);
  }
  try {
    if (access == Access::write_existing && !exists) {
      return Database(fresh_memory_db(), path);
    }
    if (access == Access::read) {
      if (!exists) {
        return Database(fresh_memory_db(), path);
      }
      auto db = std::make_unique<SQLite::Database>(path, SQLite::OPEN_READONLY);
      configure(*db);
      int v = 0;
      retry_busy([&] { v = schema_version(*db); });
      check_not_newer(*db, path);
      if (v < latest_schema_version()) {
        // An older file: upgrade a private in-memory copy, leave the file as it is.
        auto mem = std::make_unique<SQLite::Database>(":memory:", SQLite::OPEN_READWRITE);
        retry_busy([&] {
          SQLite::Backup backup(*mem, *db);
          backup.executeStep();
        });
        configure(*mem);
        migrate(*mem, latest_schema_version());
        return Database(std::move(mem), path);
      }
      return Database(std::move(db), path);
    }

    if (!exists) {
      make_dirs(parent_dir(path));
      int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
      if (fd < 0) {
        throw_usage("cannot create state file '{}': {}", path, std::strerror(errno));
      }
      ::fchmod(fd, 0600);
      ::close(fd);
    }
    auto db = std::make_unique<SQLite::Database>(path, SQLite::OPEN_READWRITE);
    configure(*db);
    Database out(std::move(db), path);
    retry_busy([&] { check_not_newer(out.sql(), path); });
    std::string mode;
    retry_busy([&] { mode = out.sql().execAndGet("PRAGMA journal_mode").getString(); });
    if (mode != "wal") {
      retry_busy([&] { out.sql().exec("PRAGMA journal_mode = WAL"); });
    }
    for (;;) {
      bool more = out.write([&] {
        int v = schema_version(out.sql());
        if (v > latest_schema_version()) {
          throw_conflict("state file '{}' has schema version {}, newer than this gpuctl "
                         "understands ({}); upgrade gpuctl",
                         path, v, latest_schema_version());
        }
        if (v == latest_schema_version()) {
          return false;
        }
        apply_migration(out.sql(), v);
        return true;
      });
      if (!more) {
        break;
      }
    }
    return out;
  } catch (const SQLite::Exception& e) {
    int code = e.getErrorCode() & 0xff;
    if (code == SQLITE_NOTADB || code == SQLITE_CORRUPT) {
      throw_usage("'{}' is not a gpuctl state file (not an SQLite database)", path);
    }
    throw_usage("cannot open state file '{}': {}", path, e.what());
  }
}

void
Database::translate(const SQLite::Exception& e) const
{
  int code = e.getErrorCode() & 0xff;
  if (code == SQLITE_READONLY || code == SQLITE_CANTOPEN || code == SQLITE_PERM ||
      code == SQLITE_AUTH) {
    throw_usage("cannot write state file '{}': {}", m_path, e.what());
  }
  if (code == SQLITE_FULL || code == SQLITE_IOERR) {
    throw Error(ErrorKind::failure, fmt::format("cannot write state file '{}': {}", m_path, e.what()));
  }
  if (code == SQLITE_CORRUPT || code == SQLITE_NOTADB) {
    throw_usage("state file '{}' is damaged: {}", m_path, e.what());
  }
}

void
Database::begin_immediate()
{
  try {
    retry_busy([&] { m_db->exec("BEGIN IMMEDIATE"); });
  } catch (const SQLite::Exception& e) {
    translate(e);
    throw;
  }
}

void
Database::commit()
{
  retry_busy([&] { m_db->exec("COMMIT"); });
}

void
Database::rollback() noexcept
{
  sqlite3_exec(m_db->getHandle(), "ROLLBACK", nullptr, nullptr, nullptr);
}

std::optional<Error>
state_error(const std::exception& e, const std::string& path)
{
  const auto* sqlite = dynamic_cast<const SQLite::Exception*>(&e);
  if (sqlite == nullptr) {
    return std::nullopt;
  }
  int code = sqlite->getErrorCode() & 0xff;
  if (code == SQLITE_CORRUPT || code == SQLITE_NOTADB) {
    return Error(ErrorKind::usage,
                 fmt::format("state file '{}' is damaged: {} (restore it from a backup)", path,
                             e.what()));
  }
  if (code == SQLITE_IOERR || code == SQLITE_FULL) {
    return Error(ErrorKind::failure, fmt::format("cannot read or write state file '{}': {}", path,
                                                 e.what()));
  }
  return std::nullopt;
}

} // namespace gpuctl::store
