// SPDX-License-Identifier: MIT
// Numbered, forward-only schema migrations (DESIGN §3). Never edit a released migration: add
// the next one, and extend tests/unit/test_store.cpp's upgrade fixture.
#include "gpuctl/store/database.hpp"

#include <SQLiteCpp/Transaction.h>

#include <array>
#include <string_view>

namespace gpuctl::store {

namespace {

constexpr std::array<std::string_view, 7> k_migrations = {
    // 1: the registry.
    R"sql(
CREATE TABLE accounts(
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  provider TEXT NOT NULL CHECK (provider IN ('kaggle','colab','vast','ssh')),
  credentials_ref TEXT,
  policy_json TEXT NOT NULL DEFAULT '{}',
  created_at INTEGER NOT NULL
);
CREATE TABLE workers(
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  account_id INTEGER NOT NULL REFERENCES accounts(id),
  provider TEXT NOT NULL,
  gpu TEXT NOT NULL DEFAULT '',
  gpu_count INTEGER NOT NULL DEFAULT 1,
  enabled INTEGER NOT NULL DEFAULT 1,
  state TEXT NOT NULL DEFAULT 'offline',
  control TEXT NOT NULL DEFAULT 'manual',
  host TEXT,
  provider_ref TEXT,
  spec_json TEXT NOT NULL DEFAULT '{}',
  price_usd_per_hour REAL,
  gpu_util REAL,
  last_seen_at INTEGER,
  created_at INTEGER NOT NULL
);
CREATE INDEX workers_account ON workers(account_id);
)sql",
    // 2: GPU sessions (the quota ledger), provider reconciliations, the event log.
    R"sql(
CREATE TABLE sessions(
  id INTEGER PRIMARY KEY,
  worker_id INTEGER REFERENCES workers(id) ON DELETE SET NULL,
  worker_name TEXT NOT NULL,
  account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  started_at INTEGER NOT NULL,
  ended_at INTEGER,
  end_reason TEXT,
  price_usd_per_hour REAL,
  CHECK (ended_at IS NULL OR ended_at >= started_at)
);
CREATE INDEX sessions_account_time ON sessions(account_id, started_at, ended_at);
CREATE INDEX sessions_ended ON sessions(ended_at, started_at);
CREATE INDEX sessions_worker ON sessions(worker_id, started_at);
CREATE UNIQUE INDEX sessions_one_open_per_worker ON sessions(worker_id) WHERE ended_at IS NULL;
CREATE TABLE adjustments(
  id INTEGER PRIMARY KEY,
  account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  at INTEGER NOT NULL,
  window TEXT NOT NULL CHECK (window IN ('weekly','daily')),
  hours REAL NOT NULL,
  reason TEXT
);
CREATE INDEX adjustments_account ON adjustments(account_id, at);
CREATE TABLE events(
  id INTEGER PRIMARY KEY,
  at INTEGER NOT NULL,
  type TEXT NOT NULL,
  worker_id INTEGER,
  job_id INTEGER,
  reason TEXT,
  detail_json TEXT
);
CREATE INDEX events_at ON events(at);
)sql",
    // 3: saved plans (gpuctl schedule --save); one active at a time.
    R"sql(
CREATE TABLE plans(
  id INTEGER PRIMARY KEY,
  strategy TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  from_at INTEGER NOT NULL,
  to_at INTEGER NOT NULL,
  params_json TEXT NOT NULL DEFAULT '{}',
  active INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX plans_one_active ON plans(active) WHERE active = 1;
CREATE TABLE plan_slots(
  plan_id INTEGER NOT NULL REFERENCES plans(id) ON DELETE CASCADE,
  worker_id INTEGER NOT NULL REFERENCES workers(id) ON DELETE CASCADE,
  start_at INTEGER NOT NULL,
  end_at INTEGER NOT NULL,
  CHECK (end_at > start_at)
);
CREATE INDEX plan_slots_plan ON plan_slots(plan_id, start_at);
CREATE INDEX plan_slots_worker ON plan_slots(worker_id, start_at);
)sql",
    // 4: provider calls: intents bracket calls that create or change something (DESIGN §3),
    // api_calls paces calls per endpoint and key across processes; one vast.ai instance is
    // registered at most once; worker ids are never reused (they name vast.ai instances).
    R"sql(
CREATE TABLE intents(
  id INTEGER PRIMARY KEY,
  kind TEXT NOT NULL,
  worker_id INTEGER REFERENCES workers(id) ON DELETE CASCADE,
  job_id INTEGER,
  key TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  confirmed_at INTEGER,
  detail_json TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX intents_open ON intents(worker_id) WHERE confirmed_at IS NULL;
CREATE TABLE api_calls(
  provider TEXT NOT NULL,
  endpoint TEXT NOT NULL,
  key_id TEXT NOT NULL,
  last_at_ms INTEGER NOT NULL,
  PRIMARY KEY (provider, endpoint, key_id)
);
CREATE UNIQUE INDEX workers_vast_instance ON workers(provider_ref)
  WHERE provider = 'vast' AND provider_ref IS NOT NULL AND state != 'deleted';
CREATE TABLE id_seq(name TEXT PRIMARY KEY, last INTEGER NOT NULL);
INSERT INTO id_seq(name, last) VALUES ('workers', MAX(
  (SELECT COALESCE(MAX(id), 0) FROM workers),
  (SELECT COALESCE(MAX(worker_id), 0) FROM events),
  (SELECT COALESCE(MAX(worker_id), 0) FROM sessions)));
)sql",
    // 5: the job queue (DESIGN §7). A job's dispatch_key names its run at the provider (the
    // Kaggle kernel slug, the remote job directory) so a crash between the provider's acceptance
    // and the commit is found again; deadline warnings are recorded once per session and level;
    // workers remember when they were last dispatched to (least recently dispatched first).
    R"sql(
CREATE TABLE jobs(
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN
    ('queued','dispatched','running','succeeded','failed','cancelled','lost')),
  priority INTEGER NOT NULL DEFAULT 0,
  spec_json TEXT NOT NULL DEFAULT '{}',
  worker_id INTEGER REFERENCES workers(id) ON DELETE SET NULL,
  worker_name TEXT,
  session_id INTEGER REFERENCES sessions(id) ON DELETE SET NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  max_attempts INTEGER NOT NULL DEFAULT 3 CHECK (max_attempts >= 1),
  dispatch_key TEXT,
  submitted_at INTEGER NOT NULL,
  dispatched_at INTEGER,
  started_at INTEGER,
  ended_at INTEGER,
  timeout_s INTEGER,
  exit_code INTEGER,
  cancel_requested INTEGER NOT NULL DEFAULT 0,
  result_json TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX jobs_queue ON jobs(state, priority DESC, submitted_at, id);
CREATE INDEX jobs_worker ON jobs(worker_id, state);
CREATE UNIQUE INDEX jobs_dispatch_key ON jobs(dispatch_key) WHERE dispatch_key IS NOT NULL;
CREATE INDEX intents_job ON intents(job_id) WHERE confirmed_at IS NULL;
CREATE INDEX events_job ON events(job_id, at);
CREATE INDEX events_worker_type ON events(worker_id, type, at);
CREATE TABLE session_warnings(
  session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
  level TEXT NOT NULL,
  at INTEGER NOT NULL,
  PRIMARY KEY (session_id, level)
);
ALTER TABLE workers ADD COLUMN last_dispatched_at INTEGER;
)sql",
    // 6: hibernation (DESIGN §8): per-worker overrides of [hibernate] and the idle state
    // machine's instants, GPU utilisation samples (NULL = no sample, counts as busy), wake/sleep
    // schedules. Samples are indexed by time only: each sweep appends one per instance and reads
    // the last few minutes of all of them, and pruning deletes the oldest; a (worker, at) index
    // would dirty one page per instance on every sweep.
    R"sql(
CREATE TABLE hibernation(
  worker_id INTEGER PRIMARY KEY REFERENCES workers(id) ON DELETE CASCADE,
  config_json TEXT NOT NULL DEFAULT '{}',
  idle_since INTEGER,
  hibernated_at INTEGER,
  woke_at INTEGER,
  storage_usd_per_hour REAL
);
CREATE TABLE util_samples(
  worker_id INTEGER NOT NULL REFERENCES workers(id) ON DELETE CASCADE,
  at INTEGER NOT NULL,
  gpu_util REAL
);
CREATE INDEX util_samples_at ON util_samples(at);
CREATE TABLE wake_schedules(
  worker_id INTEGER PRIMARY KEY REFERENCES workers(id) ON DELETE CASCADE,
  wake_min INTEGER,
  sleep_min INTEGER,
  tz TEXT NOT NULL,
  days INTEGER NOT NULL DEFAULT 127,
  last_checked_at INTEGER
);
)sql",
    // 7: autoscaling on Dask (DESIGN §3 control = autoscale): the machines the autoscaler has
    // brought into the Dask cluster (rented, woken or borrowed ssh boxes) and when, and the one
    // row of loop state (since when the demand has been low).
    R"sql(
CREATE TABLE autoscale_members(
  worker_id INTEGER PRIMARY KEY REFERENCES workers(id) ON DELETE CASCADE,
  source TEXT NOT NULL,
  prev_control TEXT NOT NULL DEFAULT 'manual',
  booted_at INTEGER NOT NULL,
  joined_at INTEGER,
  address TEXT,
  job_key TEXT,
  retire_asked_at INTEGER
);
CREATE TABLE autoscale_state(
  id INTEGER PRIMARY KEY CHECK (id = 1),
  low_since INTEGER,
  last_tick_at INTEGER,
  boot_failures INTEGER NOT NULL DEFAULT 0,
  hold_until INTEGER,
  last_refusal TEXT
);
)sql",
};

} // namespace

int
latest_schema_version()
{
  return static_cast<int>(k_migrations.size());
}

int
schema_version(SQLite::Database& db)
{
  return db.execAndGet("PRAGMA user_version").getInt();
}

void
apply_migration(SQLite::Database& db, int from_version)
{
  db.exec(std::string(k_migrations[static_cast<size_t>(from_version)]));
  db.exec("PRAGMA user_version = " + std::to_string(from_version + 1));
}

void
migrate(SQLite::Database& db, int target)
{
  for (int v = schema_version(db); v < target; ++v) {
    SQLite::Transaction tx(db);
    apply_migration(db, v);
    tx.commit();
  }
}

} // namespace gpuctl::store
