-- The double-entry ledger: accounts with four counters, and an append-only journal of transfers.
CREATE TABLE ledger_account (
  id TEXT PRIMARY KEY,
  currency TEXT NOT NULL CHECK (length(currency) = 3),
  code TEXT NOT NULL,
  debits_limit_minor INTEGER CHECK (debits_limit_minor >= 0),
  credits_limit_minor INTEGER CHECK (credits_limit_minor >= 0),
  debits_pending_minor INTEGER NOT NULL DEFAULT 0 CHECK (debits_pending_minor >= 0),
  debits_posted_minor INTEGER NOT NULL DEFAULT 0 CHECK (debits_posted_minor >= 0),
  credits_pending_minor INTEGER NOT NULL DEFAULT 0 CHECK (credits_pending_minor >= 0),
  credits_posted_minor INTEGER NOT NULL DEFAULT 0 CHECK (credits_posted_minor >= 0),
  created_at_ms INTEGER NOT NULL,
  -- The balance-limit flags, enforced again by the database: a bug in the rules cannot store a breach.
  CHECK (debits_limit_minor IS NULL OR debits_pending_minor + debits_posted_minor <= credits_posted_minor + debits_limit_minor),
  CHECK (credits_limit_minor IS NULL OR credits_pending_minor + credits_posted_minor <= debits_posted_minor + credits_limit_minor)
) STRICT;

CREATE TABLE ledger_transfer (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  type TEXT NOT NULL CHECK (type IN ('posted', 'pending', 'post_pending', 'void_pending', 'expire_pending')),
  debit_account_id TEXT NOT NULL REFERENCES ledger_account (id),
  credit_account_id TEXT NOT NULL REFERENCES ledger_account (id),
  amount_minor INTEGER NOT NULL CHECK (amount_minor > 0),
  currency TEXT NOT NULL,
  pending_id TEXT,
  expires_at_ms INTEGER,
  reference TEXT,
  created_at_ms INTEGER NOT NULL,
  CHECK ((type IN ('post_pending', 'void_pending', 'expire_pending')) = (pending_id IS NOT NULL))
) STRICT;

-- A pending transfer is resolved at most once: a second post, void or expiry cannot be stored.
CREATE UNIQUE INDEX ledger_transfer_resolves ON ledger_transfer (pending_id) WHERE pending_id IS NOT NULL;

-- Pending transfers that will expire by themselves, until they are resolved: what the sweeper scans.
CREATE TABLE ledger_expiry (
  id TEXT PRIMARY KEY,
  expires_at_ms INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX ledger_expiry_due ON ledger_expiry (expires_at_ms);
