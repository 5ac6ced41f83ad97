-- The switch's callback outbox: every request and callback the switch owes a participant, written in the
-- same transaction as the state change it reports, then delivered by workers with retries.
-- seq is the enqueue order; per (destination, correlation) messages are delivered in seq order.
CREATE TABLE outbox_message (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE CHECK (length(id) BETWEEN 1 AND 64),
  destination TEXT NOT NULL CHECK (length(destination) BETWEEN 1 AND 32),
  method TEXT NOT NULL CHECK (method IN ('GET', 'POST', 'PUT', 'PATCH', 'DELETE')),
  url TEXT NOT NULL,
  -- A JSON object of header names to values, sent as stored on every attempt.
  headers TEXT NOT NULL,
  body TEXT,
  correlation TEXT NOT NULL CHECK (length(correlation) BETWEEN 1 AND 200),
  state TEXT NOT NULL CHECK (state IN ('PENDING', 'SENDING', 'DELIVERED', 'FAILED', 'FAILED_UNREACHABLE')),
  attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  created_at_ms INTEGER NOT NULL,
  -- PENDING: when the next attempt may start. SENDING: when the claim's lease runs out and another worker
  -- may take the message over. Finished states: when they finished.
  due_at_ms INTEGER NOT NULL,
  -- The claim that owns a SENDING message: an outcome is recorded only by the claim that made the attempt.
  claim_token TEXT,
  last_status INTEGER CHECK (last_status BETWEEN 100 AND 999),
  last_error TEXT,
  completed_at_ms INTEGER,
  -- When the switch's unreachable hook ran for a FAILED_UNREACHABLE message; NULL while it is still owed.
  unreachable_noticed_at_ms INTEGER,
  CHECK ((state = 'SENDING') = (claim_token IS NOT NULL)),
  CHECK ((state IN ('DELIVERED', 'FAILED', 'FAILED_UNREACHABLE')) = (completed_at_ms IS NOT NULL)),
  CHECK (unreachable_noticed_at_ms IS NULL OR state = 'FAILED_UNREACHABLE')
) STRICT;

-- What workers scan: open messages by the time they become due.
CREATE INDEX outbox_message_due ON outbox_message (due_at_ms) WHERE state IN ('PENDING', 'SENDING');
-- The open messages of one (destination, correlation) in enqueue order: only the first may be sent.
CREATE INDEX outbox_message_queue ON outbox_message (destination, correlation, seq) WHERE state IN ('PENDING', 'SENDING');
-- Unreachable notices the switch still owes the source.
CREATE INDEX outbox_message_notice_owed ON outbox_message (seq) WHERE state = 'FAILED_UNREACHABLE' AND unreachable_noticed_at_ms IS NULL;
-- Finished messages by age, for purging.
CREATE INDEX outbox_message_completed ON outbox_message (completed_at_ms) WHERE completed_at_ms IS NOT NULL;
