-- Settlement moves a net receiver's position whatever its net debit cap (Mojaloop does not check the NDC
-- there), so a posted transfer may be exempt from its debit account's debits limit. The journal records
-- the exemption, and the account counts the posted debits that were exempt: the database still refuses
-- debits past credits + limit + that count, so a bug in the rules still cannot store a breach of its own.
ALTER TABLE ledger_account ADD COLUMN debits_exempt_minor BIGINT NOT NULL DEFAULT 0
  CHECK (debits_exempt_minor >= 0 AND debits_exempt_minor <= debits_posted_minor);
ALTER TABLE ledger_account DROP CONSTRAINT ledger_account_check;
ALTER TABLE ledger_account ADD CONSTRAINT ledger_account_debits_limit CHECK (debits_limit_minor IS NULL
  OR debits_pending_minor::numeric + debits_posted_minor <= credits_posted_minor::numeric + debits_limit_minor + debits_exempt_minor);
ALTER TABLE ledger_transfer ADD COLUMN exempt_from_debits_limit BIGINT NOT NULL DEFAULT 0
  CHECK (exempt_from_debits_limit = 0 OR (exempt_from_debits_limit = 1 AND type = 'posted'));
