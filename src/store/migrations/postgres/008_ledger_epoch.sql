-- One counter that every ledger batch of a SQLite database increments (see the SQLite migration). On
-- PostgreSQL the ledger keeps nothing in memory between batches and takes row locks instead, so the
-- counter is kept only for a schema that reads the same on both adapters.
CREATE TABLE ledger_epoch (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  epoch BIGINT NOT NULL
);
INSERT INTO ledger_epoch (id, epoch) VALUES (1, 0);
