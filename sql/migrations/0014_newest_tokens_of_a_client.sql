-- A client keeps its newest live tokens only (`hookline serve --max-tokens-per-client`): issuing one finds the
-- client's tokens past that many, newest first, which this index reads in order, a few entries past the cap,
-- however many rows the client has (one that fetched a token per request before the cap existed may have
-- millions). It replaces the index on client_id alone, which it serves as well (revoking a client).
CREATE INDEX access_tokens_client_issued ON hookline.access_tokens (client_id, issued_at DESC);
DROP INDEX hookline.access_tokens_client;
