-- QR codes for POS payments (authenticationType QRCODE, reference §2.5) live beside OTPs in dfsp_otp: the same
-- hashed, single-use, bound, expiring challenge with an attempt limit, told apart by `kind`. A QR code is shown
-- in the customer's wallet app (never sent by SMS), so a customer may hold one live OTP and one live QR code.
ALTER TABLE dfsp_otp ADD COLUMN kind TEXT NOT NULL DEFAULT 'OTP' CHECK (kind IN ('OTP', 'QRCODE'));
DROP INDEX IF EXISTS dfsp_otp_live;
CREATE UNIQUE INDEX dfsp_otp_live ON dfsp_otp (dfsp_id, customer_id, kind) WHERE state = 'ISSUED';
DROP INDEX IF EXISTS dfsp_otp_by_customer;
CREATE INDEX dfsp_otp_by_customer ON dfsp_otp (dfsp_id, customer_id, kind, created_at_ms);

-- The SMS outbox read newest first across all phone numbers (kivuko sms without --msisdn).
CREATE INDEX dfsp_notification_recent ON dfsp_notification (dfsp_id, created_at_ms);
