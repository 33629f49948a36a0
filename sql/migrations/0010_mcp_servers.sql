-- MCP servers: an account's cycles offered as tools to AI agents at /mcp/{id}, over MCP's Streamable HTTP
-- transport. Like a webhook, the id is a random UUID (the URL is unguessable) and `auth` says who may call:
-- `bearer` (tokens of the account's `mcp`-scoped clients) or `none` (the URL alone). A tool call becomes a
-- job like a webhook delivery: jobs.webhook_id holds the server's id (the endpoint the job came through),
-- and its idempotency keys live in idempotency_keys under that id.
CREATE TABLE hookline.mcp_servers (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    account_id   uuid NOT NULL REFERENCES hookline.accounts (id) ON DELETE CASCADE,
    name         text NOT NULL CHECK (name <> ''),
    description  text NOT NULL DEFAULT '',
    auth_scheme  text NOT NULL DEFAULT 'bearer' CHECK (auth_scheme IN ('bearer', 'none')),
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    deleted_at   timestamptz
);
CREATE INDEX mcp_servers_account ON hookline.mcp_servers (account_id);

-- The cycles a server offers, one tool each, in the order given.
CREATE TABLE hookline.mcp_server_cycles (
    server_id  uuid NOT NULL REFERENCES hookline.mcp_servers (id) ON DELETE CASCADE,
    cycle_id   uuid NOT NULL REFERENCES hookline.cycles (id),
    position   integer NOT NULL,
    PRIMARY KEY (server_id, cycle_id)
);
CREATE INDEX mcp_server_cycles_cycle ON hookline.mcp_server_cycles (cycle_id);
