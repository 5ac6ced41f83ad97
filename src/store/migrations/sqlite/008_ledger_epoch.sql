-- One counter that every ledger batch of this database increments in its own transaction. A writer that
-- keeps accounts and open pending transfers in memory between batches (the SQLite ledger writer thread)
-- compares it with the value its own last commit left: any difference means another writer committed
-- ledger rows meanwhile, and what it kept in memory may be stale. Other tables' writes do not touch it.
CREATE TABLE ledger_epoch (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  epoch INTEGER NOT NULL
) STRICT;
INSERT INTO ledger_epoch (id, epoch) VALUES (1, 0);
