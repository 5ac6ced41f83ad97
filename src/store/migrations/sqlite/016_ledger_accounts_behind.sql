-- The ledger's writer thread writes account rows back every few commits instead of in every one (an account
-- touched by many commits is then written once): the journal is durable in every commit, and an account's
-- counters are its row plus what the journal rows after accounts_seq add. NULL: every row is current. A
-- transaction that writes account rows from what it read replays that tail into them first (catch-up);
-- a read that must be exact adds the tail in the same statement. Limits are not in the journal, so a batch
-- that sets limits or creates accounts writes every row back in its own commit. PostgreSQL never lags.
ALTER TABLE ledger_epoch ADD COLUMN accounts_seq INTEGER CHECK (accounts_seq >= 0);
