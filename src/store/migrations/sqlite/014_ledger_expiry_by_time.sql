-- The expiry index keyed by (expires_at_ms, id) in one B-tree: the sweeper reads it in key order, and a
-- resolution deletes its row by the full key (the ledger knows when its pending transfer was due). Before,
-- the rows were keyed by id with a second index on the time, so every pending transfer with an expiry cost
-- two B-tree inserts and two deletes; measured on the ledger's writer thread, about a sixth of its work.
CREATE TABLE ledger_expiry_by_time (
  expires_at_ms INTEGER NOT NULL,
  id TEXT NOT NULL,
  PRIMARY KEY (expires_at_ms, id)
) STRICT, WITHOUT ROWID;
INSERT INTO ledger_expiry_by_time (expires_at_ms, id) SELECT expires_at_ms, id FROM ledger_expiry;
DROP TABLE ledger_expiry;
ALTER TABLE ledger_expiry_by_time RENAME TO ledger_expiry;
