-- Deferred multilateral net settlement: windows that collect committed transfers, and settlements that net
-- one or more closed windows per participant and currency and move positions back toward zero.
CREATE TABLE settlement_window (
  id INTEGER PRIMARY KEY,
  state TEXT NOT NULL CHECK (state IN ('OPEN', 'CLOSED', 'PENDING_SETTLEMENT', 'SETTLED')),
  -- The reason given with the latest state change (the close, or the abort that released the window).
  reason TEXT,
  created_at_ms INTEGER NOT NULL,
  changed_at_ms INTEGER NOT NULL
) STRICT;
-- At most one window is OPEN: a second one cannot be stored, whoever tries.
CREATE UNIQUE INDEX settlement_window_one_open ON settlement_window (state) WHERE state = 'OPEN';
CREATE INDEX settlement_window_created ON settlement_window (created_at_ms);

-- Every state change of a window, append-only: the audit trail behind the row's current state.
CREATE TABLE settlement_window_state_change (
  seq INTEGER PRIMARY KEY,
  window_id INTEGER NOT NULL REFERENCES settlement_window (id),
  from_state TEXT,
  to_state TEXT NOT NULL,
  reason TEXT,
  changed_at_ms INTEGER NOT NULL
) STRICT;
CREATE INDEX settlement_window_state_change_window ON settlement_window_state_change (window_id, seq);

-- Each committed transfer, in the window that was OPEN when it committed; written once per transfer id.
CREATE TABLE settlement_transfer (
  transfer_id TEXT PRIMARY KEY,
  window_id INTEGER NOT NULL REFERENCES settlement_window (id),
  payer_fsp TEXT NOT NULL,
  payee_fsp TEXT NOT NULL,
  currency TEXT NOT NULL CHECK (length(currency) = 3),
  amount_minor INTEGER NOT NULL CHECK (amount_minor > 0),
  committed_at_ms INTEGER NOT NULL
) STRICT;
CREATE INDEX settlement_transfer_window ON settlement_transfer (window_id, currency);
CREATE INDEX settlement_transfer_payer ON settlement_transfer (payer_fsp, window_id);
CREATE INDEX settlement_transfer_payee ON settlement_transfer (payee_fsp, window_id);

CREATE TABLE settlement (
  id INTEGER PRIMARY KEY,
  model TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('PENDING_SETTLEMENT', 'SETTLING', 'SETTLED', 'ABORTED')),
  reason TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL,
  changed_at_ms INTEGER NOT NULL
) STRICT;
CREATE INDEX settlement_created ON settlement (created_at_ms);

CREATE TABLE settlement_state_change (
  seq INTEGER PRIMARY KEY,
  settlement_id INTEGER NOT NULL REFERENCES settlement (id),
  from_state TEXT,
  to_state TEXT NOT NULL,
  reason TEXT NOT NULL,
  changed_at_ms INTEGER NOT NULL
) STRICT;
CREATE INDEX settlement_state_change_settlement ON settlement_state_change (settlement_id, seq);

-- The windows a settlement covers. A window may appear in several settlements, all but one of them ABORTED.
CREATE TABLE settlement_window_member (
  settlement_id INTEGER NOT NULL REFERENCES settlement (id),
  window_id INTEGER NOT NULL REFERENCES settlement_window (id),
  PRIMARY KEY (settlement_id, window_id)
) STRICT;
CREATE INDEX settlement_window_member_window ON settlement_window_member (window_id);

-- The nets of a settlement, fixed when it is created: net = received - sent, and per currency they sum to zero.
CREATE TABLE settlement_participant (
  settlement_id INTEGER NOT NULL REFERENCES settlement (id),
  fsp TEXT NOT NULL,
  currency TEXT NOT NULL CHECK (length(currency) = 3),
  sent_minor INTEGER NOT NULL CHECK (sent_minor >= 0),
  received_minor INTEGER NOT NULL CHECK (received_minor >= 0),
  net_minor INTEGER NOT NULL,
  -- The ledger transfer that settles a non-zero net; NULL when the net is zero and nothing moves.
  ledger_transfer_id TEXT,
  PRIMARY KEY (settlement_id, fsp, currency),
  CHECK (net_minor = received_minor - sent_minor),
  CHECK ((net_minor = 0) = (ledger_transfer_id IS NULL))
) STRICT;
