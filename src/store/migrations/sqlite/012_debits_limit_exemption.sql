-- Settlement moves a net receiver's position whatever its net debit cap (Mojaloop does not check the NDC
-- there), so a posted transfer may be exempt from its debit account's debits limit. The journal records
-- the exemption, and the account counts the posted debits that were exempt: the database still refuses
-- debits past credits + limit + that count, so a bug in the rules still cannot store a breach of its own.
-- SQLite cannot alter a CHECK, so ledger_account is rebuilt by SQLite's documented procedure: with foreign
-- keys off (the line below asks the migration runner for that), and checked before the commit.
-- kivuko: foreign keys off
CREATE TABLE ledger_account_rebuilt (
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
  debits_exempt_minor INTEGER NOT NULL DEFAULT 0 CHECK (debits_exempt_minor >= 0 AND debits_exempt_minor <= debits_posted_minor),
  CHECK (debits_limit_minor IS NULL OR debits_pending_minor + debits_posted_minor <= credits_posted_minor + debits_limit_minor + debits_exempt_minor),
  CHECK (credits_limit_minor IS NULL OR credits_pending_minor + credits_posted_minor <= debits_posted_minor + credits_limit_minor)
) STRICT;
INSERT INTO ledger_account_rebuilt (id, currency, code, debits_limit_minor, credits_limit_minor, debits_pending_minor, debits_posted_minor,
    credits_pending_minor, credits_posted_minor, created_at_ms)
  SELECT id, currency, code, debits_limit_minor, credits_limit_minor, debits_pending_minor, debits_posted_minor,
         credits_pending_minor, credits_posted_minor, created_at_ms
    FROM ledger_account;
DROP TABLE ledger_account;
ALTER TABLE ledger_account_rebuilt RENAME TO ledger_account;

ALTER TABLE ledger_transfer ADD COLUMN exempt_from_debits_limit INTEGER NOT NULL DEFAULT 0
  CHECK (exempt_from_debits_limit = 0 OR (exempt_from_debits_limit = 1 AND type = 'posted'));
