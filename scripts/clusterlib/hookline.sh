# shellcheck shell=bash disable=SC2154  # the globals are scripts/cluster's
# Sourced by scripts/cluster: the Hookline hosts (hookline serve on in1 and in2, hookline work on wk1…3) and
# HAProxy on lb: in front of serve, and (the PgBouncer variant) in front of PostgreSQL for PgBouncer.

# The environment of a Hookline process of role $1 (serve or work), one VAR=value a line: its DATABASE_URL and,
# in the PgBouncer variant, no prepared statements and LISTEN on a direct connection.
hookline_env() {
  if [ "$variant" != pgbouncer ]; then
    echo "DATABASE_URL=$(database_url)"
    return 0
  fi
  echo "DATABASE_URL=$(pgbouncer_url "$1")"
  echo "HOOKLINE_PREPARED_STATEMENTS=off"
  # LISTEN needs a session of its own: through a transaction-mode pooler the notifications would reach
  # whichever client holds that server connection, or nobody. A binary without --listen-database-url would
  # LISTEN through PgBouncer: its workers poll instead (its serve cannot, and misses cache invalidations).
  echo "HOOKLINE_LISTEN_DATABASE_URL=$(database_url)"
  if [ "$1" = work ] && ! "$hookline" work --help 2>/dev/null | grep -q -- --listen-database-url; then
    echo "HOOKLINE_POLL_ONLY=1"
  fi
}

start_serve() {
  local host=$1 environment cpu=0
  alive "$host" && return 0
  mapfile -t environment < <(hookline_env serve)
  # Each serve host runs on a core of its own (in1 on the first, in2 on the last), as on hosts of their own:
  # left to float, the two processes' event loops and database threads interleave on both cores, and the
  # cluster's ingress made 7,400 to 8,300 webhooks/s instead of 10,000 to 10,300 (docs/scaling.md).
  [ "$host" = in2 ] && cpu=$(($(nproc) - 1))
  start_in "$host" taskset -c "$cpu" env "${environment[@]}" "$hookline" serve --host "$(ip_of "$host")" --port 8080 \
    --trusted-proxy "$(ip_of lb)/32" --log-level info
  wait_for 60 "hookline serve on $host ready" curl -fsS --max-time 2 "http://$(ip_of "$host"):8080/readyz"
  log "hookline serve up on $host ($(ip_of "$host"):8080)"
}

# The two serve hosts, as the serve and mcp backends both list them.
serve_servers() {
  cat <<CFG
    # The caller's address for allow-lists and the brake on failed client authentications: serve believes
    # X-Forwarded-For from this host (--trusted-proxy). Without it every caller would be the balancer, and one
    # caller's wrong secrets would lock a client ID out for all.
    option forwardfor
    # An instance whose database does not answer (GET /readyz is not 200) gets no new requests.
    option httpchk
    http-check send meth GET uri /readyz ver HTTP/1.1 hdr Host hookline
    http-check expect status 200
    default-server inter 1s fastinter 500ms downinter 1s fall 2 rise 2 check
    server in1 $(ip_of in1):8080
    server in2 $(ip_of in2):8080
CFG
}

write_haproxy_config() {
  cat >"$state/haproxy.cfg" <<CFG
# Written by scripts/cluster.
global
    maxconn 8192
    log stderr format short local0 notice

defaults
    mode http
    log global
    option httplog
    option dontlognull
    timeout connect 2s
    timeout client 60s
    # Longer than hookline serve's database timeout (10 s, and 5 s more before it gives a connection up), so
    # that the ingress, not the balancer, answers a delivery it could not commit (503, which providers retry).
    timeout server 30s
    timeout http-request 60s
    timeout http-keep-alive 75s
    # GET /readyz answers within 2 s (503 when the database does not answer by then): let it.
    timeout check 3s
    # Never send a request twice. A POST that reached an instance may have been committed there even if the
    # answer never came back: sending it again is the provider's decision (it sends the same idempotency
    # key), never the balancer's. HAProxy retries only what retry-on lists, and conn-failure (the default,
    # made explicit) covers only a connection that could not be opened, when no byte of the request left:
    # then redispatch sends it to the other instance. No empty-response, response-timeout, 0rtt-rejected or
    # status-code retries, which would resend a request an instance may have acted on.
    retries 2
    retry-on conn-failure
    option redispatch 1

frontend ingress
    bind $(ip_of lb):$lb_port
    # An MCP tool call's answer may take 60 s after its first event (see backend mcp).
    timeout client 90s
    use_backend mcp if { path_beg /mcp/ }
    default_backend serve

backend serve
    balance roundrobin
$(serve_servers)

# An MCP session lives in the instance that answered its initialize: the answer's Mcp-Session-Id is stored
# with that instance, and every later request with the id goes there. (Hashing the header instead sends them
# to whichever instance the id hashes to, not the one that made it: all 404.) A tool call may wait 60 s for
# its job, and an idle event stream is cut at the longer timeout, after which the client opens it again and
# resumes. With more than one HAProxy, share the table with a peers section.
backend mcp
    balance roundrobin
    stick-table type string len 64 size 100k expire 1h
    stick store-response res.hdr(Mcp-Session-Id)
    stick match req.hdr(Mcp-Session-Id)
    timeout server 90s
$(serve_servers)
CFG
  [ "$variant" = pgbouncer ] || return 0
  cat >>"$state/haproxy.cfg" <<CFG

# PostgreSQL's primary, for PgBouncer: the node whose Patroni answers 200 to GET /primary (port 8008). A node
# that stops being the primary is marked down within 1-2 s and its sessions are cut (shutdown-sessions), so
# PgBouncer's server connections to it break and are opened again, here, to the new primary.
listen postgres
    bind $(ip_of lb):$pg_lb_port
    mode tcp
    option tcplog
    # PgBouncer's idle server connections live up to its server_idle_timeout (300 s); keepalives check them.
    timeout client 30m
    timeout server 30m
    option httpchk
    http-check send meth GET uri /primary ver HTTP/1.1 hdr Host patroni
    http-check expect status 200
    default-server inter 1s fastinter 500ms downinter 1s fall 2 rise 1 port 8008 check on-marked-down shutdown-sessions
    server pg1 $(ip_of pg1):5432
    server pg2 $(ip_of pg2):5432
CFG
}

start_haproxy() {
  alive lb && return 0
  write_haproxy_config
  haproxy -c -q -f "$state/haproxy.cfg" || die "haproxy rejected $state/haproxy.cfg"
  start_in lb haproxy -db -f "$state/haproxy.cfg"
  # Its port only: /healthz through it needs a serve host, which in the PgBouncer variant starts after it.
  wait_for 20 "haproxy listening" timeout 2 bash -c "</dev/tcp/$(ip_of lb)/$lb_port"
  log "haproxy up on $(ip_of lb):$lb_port$([ "$variant" = pgbouncer ] && echo ", PostgreSQL's primary on :$pg_lb_port")"
}

start_work() {
  local host=$1 environment
  alive "$host" && return 0
  mapfile -t environment < <(hookline_env work)
  start_in "$host" env "${environment[@]}" "$hookline" work --allow-private-destinations \
    --processes 1 --concurrency 32 --poll-ms 200 --log-level info
  log "hookline work started on $host ($(ip_of "$host"))"
}
