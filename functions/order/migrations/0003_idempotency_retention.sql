-- Idempotency keys past their window are pruned by when they were first used (see 0002_retention.sql
-- in shared/db/migrations for why BRIN).
CREATE INDEX idempotency_keys_by_created ON idempotency_keys USING brin (created_at);
