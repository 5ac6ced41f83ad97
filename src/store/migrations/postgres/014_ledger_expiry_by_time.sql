-- The expiry index keyed by (expires_at_ms, id): the sweeper reads it in key order, and a resolution deletes
-- its row by the full key (the ledger knows when its pending transfer was due). One index per row instead
-- of two (the primary key on id and an index on the time).
CREATE TABLE ledger_expiry_by_time (
  expires_at_ms BIGINT NOT NULL,
  id TEXT NOT NULL,
  PRIMARY KEY (expires_at_ms, id)
);
INSERT INTO ledger_expiry_by_time (expires_at_ms, id) SELECT expires_at_ms, id FROM ledger_expiry;
DROP TABLE ledger_expiry;
ALTER TABLE ledger_expiry_by_time RENAME TO ledger_expiry;
ALTER TABLE ledger_expiry RENAME CONSTRAINT ledger_expiry_by_time_pkey TO ledger_expiry_pkey;
