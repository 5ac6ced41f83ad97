-- A payee's answer to a quote is kept as it was relayed: the body text byte for byte (response_body) and the
-- headers the relay forwarded, as a JSON object, so that a payer's resent POST /quotes gets the payee's own
-- message again, FSPIOP-Signature and all. Rows from before this migration have no headers.
ALTER TABLE quote ADD COLUMN response_headers TEXT;
-- 1 when the kept answer was the payee's PUT /quotes/{ID}/error.
ALTER TABLE quote ADD COLUMN response_is_error BIGINT NOT NULL DEFAULT 0 CHECK (response_is_error IN (0, 1));

-- External oracles, as Mojaloop's account-lookup-service admin API registers them (POST /oracles): the
-- switch asks the oracle registered for a party id type (and currency) instead of its built-in table.
-- One oracle per party id type, endpoint type and currency (no currency counts as one value), as the ALS checks.
CREATE TABLE oracle_endpoint (
  oracle_id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  party_id_type TEXT NOT NULL,
  endpoint_type TEXT NOT NULL CHECK (endpoint_type = 'URL'),
  endpoint_value TEXT NOT NULL,
  currency TEXT,
  is_default BIGINT NOT NULL CHECK (is_default IN (0, 1)),
  created_at_ms BIGINT NOT NULL
);
CREATE UNIQUE INDEX oracle_endpoint_type_currency ON oracle_endpoint (party_id_type, endpoint_type, COALESCE(currency, ''));
