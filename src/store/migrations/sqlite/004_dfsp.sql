-- The DFSP's own tables: customers, and the quotes and transfers it took part in, in either role. Several
-- DFSPs may share one store, so every row carries its dfsp_id. Amounts are minor units; JSON is text.
CREATE TABLE dfsp_customer (
  dfsp_id TEXT NOT NULL CHECK (length(dfsp_id) BETWEEN 1 AND 128),
  customer_id TEXT NOT NULL CHECK (length(customer_id) BETWEEN 1 AND 32),
  msisdn TEXT,
  account_id TEXT,
  name TEXT NOT NULL,
  first_name TEXT,
  middle_name TEXT,
  last_name TEXT,
  date_of_birth TEXT,
  currency TEXT NOT NULL CHECK (length(currency) = 3),
  wallet_account_id TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL,
  PRIMARY KEY (dfsp_id, customer_id),
  -- A party id names one customer of a DFSP: what a look-up and the oracle rely on.
  UNIQUE (dfsp_id, msisdn),
  UNIQUE (dfsp_id, account_id),
  CHECK (msisdn IS NOT NULL OR account_id IS NOT NULL)
) STRICT;

CREATE TABLE dfsp_quote (
  dfsp_id TEXT NOT NULL,
  quote_id TEXT NOT NULL,
  role TEXT NOT NULL CHECK (role IN ('PAYER', 'PAYEE')),
  -- SHA-256 of the request's canonical JSON: a resend matches it, a modified request (3106) does not.
  request_hash TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('RECEIVED', 'ACCEPTED', 'REJECTED')),
  transaction_id TEXT NOT NULL,
  customer_id TEXT,
  amount_type TEXT NOT NULL CHECK (amount_type IN ('SEND', 'RECEIVE')),
  currency TEXT NOT NULL,
  transfer_amount_minor INTEGER CHECK (transfer_amount_minor >= 0),
  payee_receive_amount_minor INTEGER CHECK (payee_receive_amount_minor >= 0),
  payee_fsp_fee_minor INTEGER CHECK (payee_fsp_fee_minor >= 0),
  condition TEXT,
  expires_at_ms INTEGER,
  request TEXT NOT NULL,
  -- The answer: sent as payee, received as payer; NULL while there is none yet.
  response TEXT,
  response_is_error INTEGER NOT NULL CHECK (response_is_error IN (0, 1)),
  created_at_ms INTEGER NOT NULL,
  updated_at_ms INTEGER NOT NULL,
  PRIMARY KEY (dfsp_id, quote_id, role),
  CHECK ((state = 'RECEIVED') = (response IS NULL))
) STRICT;

CREATE TABLE dfsp_transfer (
  dfsp_id TEXT NOT NULL,
  transfer_id TEXT NOT NULL,
  role TEXT NOT NULL CHECK (role IN ('PAYER', 'PAYEE')),
  request_hash TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('RECEIVED', 'RESERVED', 'COMMITTED', 'ABORTED')),
  abort_reason TEXT CHECK (abort_reason IN ('REJECTED', 'ERROR', 'EXPIRED')),
  quote_id TEXT,
  customer_id TEXT,
  counterparty_fsp TEXT NOT NULL,
  counterparty TEXT,
  currency TEXT NOT NULL,
  amount_minor INTEGER NOT NULL CHECK (amount_minor >= 0),
  principal_minor INTEGER NOT NULL CHECK (principal_minor >= 0),
  fee_minor INTEGER NOT NULL CHECK (fee_minor >= 0),
  note TEXT,
  condition TEXT,
  fulfilment TEXT,
  expires_at_ms INTEGER NOT NULL,
  request TEXT NOT NULL,
  response TEXT,
  response_is_error INTEGER NOT NULL CHECK (response_is_error IN (0, 1)),
  error_code TEXT,
  error_description TEXT,
  -- When the sweeper last asked the switch (GET /transfers) about this transfer.
  checked_at_ms INTEGER,
  completed_at_ms INTEGER,
  created_at_ms INTEGER NOT NULL,
  updated_at_ms INTEGER NOT NULL,
  PRIMARY KEY (dfsp_id, transfer_id, role),
  CHECK ((state = 'ABORTED') = (abort_reason IS NOT NULL))
) STRICT;

-- What the sweeper scans: open transfers by expiration.
CREATE INDEX dfsp_transfer_open ON dfsp_transfer (dfsp_id, expires_at_ms) WHERE state IN ('RECEIVED', 'RESERVED');
-- Statements join journal rows to transfers by id, whatever the role.
CREATE INDEX dfsp_transfer_by_id ON dfsp_transfer (transfer_id);

-- Ledger.lookupAccountTransfers: one account's journal, newest first, one index per side.
CREATE INDEX ledger_transfer_debit_seq ON ledger_transfer (debit_account_id, seq);
CREATE INDEX ledger_transfer_credit_seq ON ledger_transfer (credit_account_id, seq);
