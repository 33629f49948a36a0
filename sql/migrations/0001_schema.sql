-- Hookline's schema: accounts and their OAuth clients and tokens, webhooks, cycles, and the job queue.
-- Every table lives in schema `hookline`. Later migrations add to it; this file never changes once released.

CREATE SCHEMA IF NOT EXISTS hookline;

-- An account: the tenant that owns clients, webhooks and cycles.
CREATE TABLE hookline.accounts (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name        text NOT NULL CHECK (name <> ''),
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- OAuth 2.0 client credentials. account_id NULL means a console-level client (scope `api`, the admin API);
-- otherwise the client belongs to one account and its scope is `webhook` or `mcp`.
-- The secret is stored only as a hash; client_id is public and is what callers send.
CREATE TABLE hookline.oauth_clients (
    id                      uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    client_id               text NOT NULL UNIQUE,
    account_id              uuid REFERENCES hookline.accounts (id) ON DELETE CASCADE,
    scope                   text NOT NULL CHECK (scope IN ('webhook', 'mcp', 'api')),
    description             text NOT NULL DEFAULT '',
    secret_hash             bytea NOT NULL,
    token_lifetime_seconds  integer NOT NULL DEFAULT 1209600 CHECK (token_lifetime_seconds > 0),
    created_at              timestamptz NOT NULL DEFAULT now(),
    revoked_at              timestamptz,
    CHECK ((account_id IS NULL) = (scope = 'api'))
);
-- `clients list --account`.
CREATE INDEX oauth_clients_account ON hookline.oauth_clients (account_id);

-- Issued bearer tokens, by the SHA-256 of the token. Many per client, each expiring on its own.
-- account_id and scope are copied from the client so that verifying a token reads one row.
CREATE TABLE hookline.access_tokens (
    token_hash  bytea PRIMARY KEY,
    client_id   uuid NOT NULL REFERENCES hookline.oauth_clients (id) ON DELETE CASCADE,
    account_id  uuid REFERENCES hookline.accounts (id) ON DELETE CASCADE,
    scope       text NOT NULL CHECK (scope IN ('webhook', 'mcp', 'api')),
    issued_at   timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    revoked_at  timestamptz,
    CHECK (expires_at > issued_at)
);
-- Revoking a client revokes its tokens.
CREATE INDEX access_tokens_client ON hookline.access_tokens (client_id);
-- Pruning expired tokens.
CREATE INDEX access_tokens_expires ON hookline.access_tokens (expires_at);

-- A cycle: an account's workflow, as a JSON definition of steps. `version` grows with each update.
CREATE TABLE hookline.cycles (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    account_id  uuid NOT NULL REFERENCES hookline.accounts (id) ON DELETE CASCADE,
    name        text NOT NULL CHECK (name <> ''),
    version     integer NOT NULL DEFAULT 1,
    definition  jsonb NOT NULL,
    active      boolean NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX cycles_account ON hookline.cycles (account_id);

-- A webhook endpoint: POST /webhooks/{id}. The id is a random UUID (122 random bits), so the URL itself is
-- unguessable. auth_settings holds the scheme's settings (secret, header, algorithm, encoding).
CREATE TABLE hookline.webhooks (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    account_id     uuid NOT NULL REFERENCES hookline.accounts (id) ON DELETE CASCADE,
    cycle_id       uuid NOT NULL REFERENCES hookline.cycles (id),
    auth_scheme    text NOT NULL DEFAULT 'none'
                   CHECK (auth_scheme IN ('none', 'bearer', 'standard-webhooks', 'github', 'stripe', 'hmac')),
    auth_settings  jsonb NOT NULL DEFAULT '{}',
    allow_ips      cidr[] NOT NULL DEFAULT '{}',
    active         boolean NOT NULL DEFAULT true,
    created_at     timestamptz NOT NULL DEFAULT now(),
    deleted_at     timestamptz
);
CREATE INDEX webhooks_account ON hookline.webhooks (account_id);

-- The hot queue. Only jobs that are waiting, running or held live here; a job leaves for job_history in the
-- transaction that finishes it, so that SKIP LOCKED scans stay short. No foreign keys: each would cost an
-- index probe per inserted row on the ingress's hot path, and jobs must outlive a deleted webhook.
CREATE TABLE hookline.jobs (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id       uuid NOT NULL,
    webhook_id       uuid,
    cycle_id         uuid,
    cycle_version    integer,
    parent_id        bigint,
    state            text NOT NULL DEFAULT 'available'
                     CHECK (state IN ('available', 'running', 'held', 'completed', 'dead', 'cancelled')),
    priority         smallint NOT NULL DEFAULT 0,
    attempt          integer NOT NULL DEFAULT 0,
    max_attempts     integer NOT NULL DEFAULT 6 CHECK (max_attempts > 0),
    run_at           timestamptz NOT NULL DEFAULT now(),
    locked_by        text,
    locked_until     timestamptz,
    next_step        integer NOT NULL DEFAULT 0,
    step_outputs     jsonb NOT NULL DEFAULT '{}',
    headers          jsonb NOT NULL DEFAULT '{}',
    content_type     text,
    body             bytea NOT NULL DEFAULT '',
    idempotency_key  text,
    received_at      timestamptz NOT NULL DEFAULT now(),
    last_error       text,
    errors           jsonb NOT NULL DEFAULT '[]'
);
-- The claim: available jobs in priority and run_at order. Partial, so it holds only what can be claimed.
CREATE INDEX jobs_claim ON hookline.jobs (priority DESC, run_at, id) WHERE state = 'available';
-- The reaper: running jobs whose lease has run out.
CREATE INDEX jobs_lease ON hookline.jobs (locked_until) WHERE state = 'running';
-- Inspection and bulk operations by account and state.
CREATE INDEX jobs_account_state ON hookline.jobs (account_id, state);

-- Finished jobs (completed, dead, cancelled), partitioned by the day they finished so that retention drops
-- whole partitions instead of deleting rows. Partitions are created by the workers ahead of time.
CREATE TABLE hookline.job_history (
    id               bigint NOT NULL,
    account_id       uuid NOT NULL,
    webhook_id       uuid,
    cycle_id         uuid,
    cycle_version    integer,
    parent_id        bigint,
    state            text NOT NULL CHECK (state IN ('completed', 'dead', 'cancelled')),
    outcome          text,
    priority         smallint NOT NULL DEFAULT 0,
    attempt          integer NOT NULL,
    max_attempts     integer NOT NULL,
    step_outputs     jsonb NOT NULL DEFAULT '{}',
    headers          jsonb NOT NULL DEFAULT '{}',
    content_type     text,
    body             bytea NOT NULL DEFAULT '',
    idempotency_key  text,
    received_at      timestamptz NOT NULL,
    finished_at      timestamptz NOT NULL DEFAULT now(),
    last_error       text,
    errors           jsonb NOT NULL DEFAULT '[]',
    PRIMARY KEY (id, finished_at)
) PARTITION BY RANGE (finished_at);
-- Rows that land outside every daily partition are never refused.
CREATE TABLE hookline.job_history_default PARTITION OF hookline.job_history DEFAULT;
CREATE INDEX job_history_account ON hookline.job_history (account_id, finished_at);

-- One row per step attempt.
CREATE TABLE hookline.step_runs (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    job_id       bigint NOT NULL,
    step_id      text NOT NULL,
    attempt      integer NOT NULL,
    started_at   timestamptz NOT NULL DEFAULT now(),
    finished_at  timestamptz,
    outcome      text CHECK (outcome IN ('succeeded', 'filtered', 'retry', 'failed')),
    error        text
);
CREATE INDEX step_runs_job ON hookline.step_runs (job_id);

-- The `store` step's key/value data, per cycle.
CREATE TABLE hookline.cycle_data (
    cycle_id    uuid NOT NULL REFERENCES hookline.cycles (id) ON DELETE CASCADE,
    key         text NOT NULL,
    value       jsonb NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (cycle_id, key)
);
