// SPDX-License-Identifier: MIT
#pragma once
#include <SQLiteCpp/Database.h>

#include <memory>
#include <string>
#include <utility>

namespace gpuctl::store {

/// The schema version this binary writes (`PRAGMA user_version`, DESIGN §3).
int latest_schema_version();

/// Applies the numbered migrations after the DB's current version up to `target`, each in its
/// own transaction. Used by Database::open and by tests that build old fixtures.
void migrate(SQLite::Database& db, int target);

/// Runs migration number `from_version + 1` on `db`; the caller holds the transaction.
void apply_migration(SQLite::Database& db, int from_version);

/// `PRAGMA user_version`.
int schema_version(SQLite::Database& db);

/// Whether a command may change the state file.
enum class Access {
  read, ///< never creates or modifies the file; a missing file reads as empty
  write, ///< creates the file (0600) and its directory (0700), migrates it
  /// writes to an existing file only; a missing one is served empty from memory, so commands
  /// that change existing rows fail their lookups without creating the file
  write_existing
};

/// The state file (DESIGN §3): SQLite in WAL mode with foreign keys, a 5 s busy timeout and an
/// application retry on SQLITE_BUSY; every write in one BEGIN IMMEDIATE transaction.
class Database {
public:
  /// Opens `path`. With Access::read a missing file, or one at an older schema, is served from an
  /// in-memory copy at the newest schema, so reading never writes. Throws Error(conflict) when the
  /// file's schema is newer than this binary, Error(usage) when it is not a gpuctl DB or cannot
  /// be opened or created.
  static Database open(const std::string& path, Access access);

  /// The connection, for repositories.
  SQLite::Database& sql() { return *m_db; }
  const std::string& path() const { return m_path; }

  /// Runs `fn()` inside BEGIN IMMEDIATE … COMMIT. SQLITE_BUSY on BEGIN or COMMIT is retried with
  /// a short back-off for up to 60 s (then Error(conflict), "state file busy"); any exception
  /// from `fn` rolls back and propagates.
  template <typename Fn>
  decltype(auto)
  write(Fn&& fn)
  {
    begin_immediate();
    try {
      if constexpr (std::is_void_v<decltype(fn())>) {
        fn();
        commit();
      } else {
        auto result = fn();
        commit();
        return result;
      }
    } catch (const SQLite::Exception& e) {
      rollback();
      translate(e);
      throw;
    } catch (...) {
      rollback();
      throw;
    }
  }

private:
  Database(std::unique_ptr<SQLite::Database> db, std::string path)
      : m_db(std::move(db)), m_path(std::move(path))
  {
  }
  void begin_immediate();
  void commit();
  void rollback() noexcept;
  /// Rethrows SQLite's I/O and permission errors as gpuctl errors with exit codes.
  void translate(const SQLite::Exception& e) const;

  std::unique_ptr<SQLite::Database> m_db;
  std::string m_path;
};

} // namespace gpuctl::store
