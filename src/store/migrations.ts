import type { Database } from 'bun:sqlite'

// Each entry runs once, in order; the index is stored in user_version.
const MIGRATIONS = [
  `CREATE TABLE events (
     id INTEGER PRIMARY KEY,
     stream TEXT NOT NULL,
     type TEXT NOT NULL,
     data TEXT NOT NULL,
     time INTEGER NOT NULL,
     key TEXT,
     correlation_id TEXT
   );
   CREATE INDEX events_stream_id ON events (stream, id);
   CREATE TABLE streams (
     name TEXT PRIMARY KEY,
     ring_size INTEGER,
     max_events INTEGER,
     max_age_seconds INTEGER,
     ephemeral INTEGER NOT NULL DEFAULT 0,
     closed INTEGER NOT NULL DEFAULT 0,
     pruned_through INTEGER NOT NULL DEFAULT 0
   ) WITHOUT ROWID;
   CREATE TABLE dedup_keys (
     stream TEXT NOT NULL,
     key TEXT NOT NULL,
     id INTEGER NOT NULL,
     time INTEGER NOT NULL,
     PRIMARY KEY (stream, key)
   ) WITHOUT ROWID;
   CREATE INDEX dedup_keys_time ON dedup_keys (time);
   CREATE TABLE meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;`,
  // Consumer groups: config, cursor and counters per group; one row per delivered-and-unsettled event.
  `CREATE TABLE groups (
     name TEXT PRIMARY KEY,
     config TEXT NOT NULL,
     cursor INTEGER NOT NULL,
     counters TEXT NOT NULL
   ) WITHOUT ROWID;
   CREATE TABLE group_deliveries (
     group_name TEXT NOT NULL,
     id INTEGER NOT NULL,
     stream TEXT NOT NULL,
     consumer TEXT,
     attempt INTEGER NOT NULL,
     deadline INTEGER NOT NULL,
     reason TEXT,
     dead INTEGER NOT NULL DEFAULT 0,
     PRIMARY KEY (group_name, id)
   ) WITHOUT ROWID;`,
]

/** Brings the schema up to date; refuses a file written by a newer ringcast. */
export function migrate(db: Database): void {
  const version = (db.query('PRAGMA user_version').get() as { user_version: number }).user_version
  if (version > MIGRATIONS.length) {
    throw new Error(`the data file has schema version ${version}, newer than this ringcast knows (${MIGRATIONS.length}); run a newer ringcast`)
  }
  for (let v = version; v < MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v])
      db.exec(`PRAGMA user_version = ${v + 1}`)
    })()
  }
}
