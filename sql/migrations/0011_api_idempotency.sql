-- Idempotency keys of the admin API's creating POSTs (the `Idempotency-Key` header), one namespace per
-- console client: a repeat of a key with the same request, within 24 hours, answers the stored first answer;
-- the same key with another request is refused. `claim` names the request that runs under the key (its
-- answer is stored only by that request); `status` is NULL while it runs. Only final answers (2xx and 4xx)
-- are kept, and never a secret they carried (`client_secret` and `secret` members are removed first); after a
-- 5xx the row is deleted, so that the client may try again.
CREATE TABLE hookline.api_idempotency_keys (
    client_id     uuid NOT NULL REFERENCES hookline.oauth_clients (id) ON DELETE CASCADE,
    key           text NOT NULL,
    -- SHA-256 of the method, the path and the body.
    request_hash  bytea NOT NULL,
    claim         uuid NOT NULL,
    status        integer,
    content_type  text,
    etag          text,
    body          bytea,
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (client_id, key)
);
CREATE INDEX api_idempotency_keys_created ON hookline.api_idempotency_keys (created_at);
