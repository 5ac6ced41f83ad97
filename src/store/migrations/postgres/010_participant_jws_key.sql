-- A participant's JWS verification key (PEM): when set, every request it sends with a body must carry a
-- valid FSPIOP-Signature. Public material only.
ALTER TABLE participant ADD COLUMN jws_public_key TEXT;
