-- Statements are read for customer accounts only, and each index on ledger_transfer costs every journal
-- insert a random B-tree write: measured, the two full indexes halved the ledger's throughput. They now
-- cover the accounts whose ids carry the customer-statement prefix (a DFSP's wallets), and nothing else.
DROP INDEX IF EXISTS ledger_transfer_debit_seq;
DROP INDEX IF EXISTS ledger_transfer_credit_seq;
CREATE INDEX ledger_transfer_debit_stmt ON ledger_transfer (debit_account_id, seq) WHERE debit_account_id LIKE 'dfsp.%';
CREATE INDEX ledger_transfer_credit_stmt ON ledger_transfer (credit_account_id, seq) WHERE credit_account_id LIKE 'dfsp.%';
