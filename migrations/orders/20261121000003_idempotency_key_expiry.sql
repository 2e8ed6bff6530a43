-- Idempotency keys are kept for IDEMPOTENCY_KEY_TTL, then swept by saga recovery.
CREATE INDEX idempotency_keys_by_age ON idempotency_keys (created_at);
