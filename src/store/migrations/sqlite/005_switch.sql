-- The switch: participants, their endpoints and credentials, the built-in oracle, quotes and transfers.
CREATE TABLE participant (
  name TEXT PRIMARY KEY,
  is_active INTEGER NOT NULL DEFAULT 1 CHECK (is_active IN (0, 1)),
  -- sha256 (hex) of the participant's API token: the token itself is never stored.
  token_hash TEXT,
  created_at_ms INTEGER NOT NULL
) STRICT;

CREATE TABLE participant_currency (
  name TEXT NOT NULL REFERENCES participant (name),
  currency TEXT NOT NULL,
  is_active INTEGER NOT NULL DEFAULT 1 CHECK (is_active IN (0, 1)),
  created_at_ms INTEGER NOT NULL,
  PRIMARY KEY (name, currency)
) STRICT;

CREATE TABLE participant_endpoint (
  name TEXT NOT NULL REFERENCES participant (name),
  type TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (name, type)
) STRICT;

CREATE TABLE oracle_party (
  party_id_type TEXT NOT NULL,
  party_identifier TEXT NOT NULL,
  party_sub_id TEXT NOT NULL DEFAULT '',
  fsp_id TEXT NOT NULL,
  currency TEXT,
  created_at_ms INTEGER NOT NULL,
  PRIMARY KEY (party_id_type, party_identifier, party_sub_id)
) STRICT;

CREATE TABLE quote (
  quote_id TEXT PRIMARY KEY,
  payer_fsp TEXT NOT NULL,
  payee_fsp TEXT NOT NULL,
  request_hash TEXT NOT NULL,
  response_body TEXT,
  created_at_ms INTEGER NOT NULL
) STRICT;

CREATE TABLE transfer (
  transfer_id TEXT PRIMARY KEY,
  payer_fsp TEXT NOT NULL,
  payee_fsp TEXT NOT NULL,
  amount_minor INTEGER NOT NULL CHECK (amount_minor >= 0),
  currency TEXT NOT NULL,
  ilp_condition TEXT NOT NULL,
  expires_at_ms INTEGER NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('RECEIVED', 'RESERVED', 'COMMITTED', 'ABORTED')),
  abort_reason TEXT CHECK (abort_reason IN ('INVALID', 'REJECTED', 'ERROR', 'EXPIRED')),
  error_code TEXT,
  error_description TEXT,
  prepare_hash TEXT NOT NULL,
  prepare_body TEXT NOT NULL,
  fulfil_hash TEXT,
  fulfilment TEXT,
  payee_asked_reserved INTEGER NOT NULL DEFAULT 0,
  completed_at_ms INTEGER,
  created_at_ms INTEGER NOT NULL
) STRICT;
-- The expiry sweeper scans only transfers still waiting for their payee.
CREATE INDEX transfer_due ON transfer (expires_at_ms) WHERE state IN ('RECEIVED', 'RESERVED');

-- Append-only history of every state change, with the message that caused it.
CREATE TABLE transfer_state_change (
  seq INTEGER PRIMARY KEY,
  transfer_id TEXT NOT NULL,
  from_state TEXT,
  to_state TEXT NOT NULL,
  reason TEXT,
  at_ms INTEGER NOT NULL
) STRICT;
CREATE INDEX transfer_state_change_transfer ON transfer_state_change (transfer_id, seq);
