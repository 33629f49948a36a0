-- Idempotency keys of accepted deliveries, so that a repeat (same webhook, same Idempotency-Key, webhook-id,
-- X-GitHub-Delivery or Stripe event id) answers with the first job's id and stores nothing new, however long
-- ago the first job finished and left the hot table. Pruned by age (created_at).
CREATE TABLE hookline.idempotency_keys (
    webhook_id  uuid NOT NULL,
    key         text NOT NULL,
    job_id      bigint NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (webhook_id, key)
);
-- Pruning old keys.
CREATE INDEX idempotency_keys_created ON hookline.idempotency_keys (created_at);
