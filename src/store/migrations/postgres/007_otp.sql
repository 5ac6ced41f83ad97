-- One-time passwords of the payer DFSP (reference §7) and the outbox of notifications that carry them. The
-- OTP row holds only an HMAC of the code, never the code; the SMS body holds the code in clear because it is
-- the message to the customer, and may be purged once delivered.
CREATE TABLE dfsp_otp (
  dfsp_id TEXT NOT NULL,
  otp_id TEXT NOT NULL CHECK (length(otp_id) BETWEEN 1 AND 64),
  customer_id TEXT NOT NULL,
  -- 1, 2, 3… per customer: orders a customer's OTPs even within one millisecond.
  issue_seq BIGINT NOT NULL CHECK (issue_seq >= 1),
  -- HMAC-SHA-256 of the code, bound to the DFSP, OTP and customer ids: 64 hex characters.
  code_hash TEXT NOT NULL CHECK (length(code_hash) = 64),
  state TEXT NOT NULL CHECK (state IN ('ISSUED', 'USED', 'EXPIRED', 'LOCKED', 'SUPERSEDED', 'CANCELLED')),
  -- Optional bindings: the OTP then verifies only for this amount and currency, or this transaction request.
  amount_minor BIGINT CHECK (amount_minor > 0),
  currency TEXT CHECK (length(currency) = 3),
  transaction_request_id TEXT,
  attempts BIGINT NOT NULL CHECK (attempts >= 0),
  max_attempts BIGINT NOT NULL CHECK (max_attempts >= 1),
  expires_at_ms BIGINT NOT NULL,
  -- The transaction request the OTP was used for, when the verifier named one.
  used_for TEXT,
  created_at_ms BIGINT NOT NULL,
  updated_at_ms BIGINT NOT NULL,
  PRIMARY KEY (dfsp_id, otp_id),
  UNIQUE (dfsp_id, customer_id, issue_seq),
  CHECK ((amount_minor IS NULL) = (currency IS NULL)),
  CHECK (attempts <= max_attempts)
);

-- At most one live OTP per customer: issuing a new one supersedes the old one in the same transaction.
CREATE UNIQUE INDEX dfsp_otp_live ON dfsp_otp (dfsp_id, customer_id) WHERE state = 'ISSUED';
-- The rate limit's count of a customer's recent OTPs.
CREATE INDEX dfsp_otp_by_customer ON dfsp_otp (dfsp_id, customer_id, created_at_ms);

CREATE TABLE dfsp_notification (
  dfsp_id TEXT NOT NULL,
  notification_id TEXT NOT NULL CHECK (length(notification_id) BETWEEN 1 AND 64),
  customer_id TEXT NOT NULL,
  msisdn TEXT NOT NULL,
  channel TEXT NOT NULL CHECK (channel IN ('SMS')),
  -- The message text. It may hold an OTP in clear: never log it. NULL once purged after delivery.
  body TEXT,
  state TEXT NOT NULL CHECK (state IN ('PENDING', 'SENT', 'FAILED')),
  error TEXT,
  created_at_ms BIGINT NOT NULL,
  updated_at_ms BIGINT NOT NULL,
  PRIMARY KEY (dfsp_id, notification_id),
  CHECK (state <> 'PENDING' OR body IS NOT NULL)
);

CREATE INDEX dfsp_notification_pending ON dfsp_notification (dfsp_id, created_at_ms) WHERE state = 'PENDING';
CREATE INDEX dfsp_notification_by_msisdn ON dfsp_notification (dfsp_id, msisdn, created_at_ms);
