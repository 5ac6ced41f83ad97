-- Settlement models as Mojaloop's admin API registers them (POST /settlementModels). Kivuko settles one way,
-- deferred multilateral net on POSITION; a model records the operator's name and settings for that way.
CREATE TABLE settlement_model (
  name TEXT PRIMARY KEY,
  currency TEXT,
  require_liquidity_check BIGINT NOT NULL CHECK (require_liquidity_check IN (0, 1)),
  auto_position_reset BIGINT NOT NULL CHECK (auto_position_reset IN (0, 1)),
  is_active BIGINT NOT NULL DEFAULT 1 CHECK (is_active IN (0, 1)),
  created_at_ms BIGINT NOT NULL
);
