# shellcheck shell=bash disable=SC2154  # the globals are scripts/cluster's
# Sourced by scripts/cluster: the PgBouncer variant (`up --pgbouncer`). PgBouncer on a host of its own (pgb),
# in transaction mode, in front of HAProxy's PostgreSQL listener on lb (:5000), which leads to whichever node
# Patroni says is the primary. Hookline's pools go through it; its LISTEN connections and this script's own
# psql and `hookline` commands go straight to the nodes (database_url).

# Two pools, both the database hookline: the ingress's and the workers'. Apart, so that a worker backlog does
# not queue the ingress's short transactions behind it, and so that serve's session setting (statement_timeout,
# which it SETs on each connection it opens and which stays on whichever server connection ran it) lands only
# on server connections the ingress uses.
pgbouncer_url() { # the DATABASE_URL of a Hookline process of role $1 (serve or work)
  echo "host=$(ip_of pgb) port=$pgbouncer_port dbname=hookline_$1 user=hookline password=$(secret hookline) connect_timeout=2"
}

write_pgbouncer_config() {
  local dir=$state/pgb
  mkdir -p "$dir"
  chown postgres: "$dir"
  chmod 700 "$dir"
  (umask 077; printf '"hookline" "%s"\n' "$(secret hookline)" >"$dir/userlist.txt")
  cat >"$dir/pgbouncer.ini" <<INI
; Written by scripts/cluster.
[databases]
; Clients: two serve hosts with 16 pool connections each (32). Each request is one short transaction, whose
; COMMIT waits for the synchronous standby: 16 server connections keep the primary busy. statement_timeout is
; serve's --database-timeout (10 s), set on every server connection before any client uses it.
hookline_serve = host=$(ip_of lb) port=$pg_lb_port dbname=hookline pool_size=16 connect_query='SET statement_timeout = 10000'
; Clients: three worker hosts, one process each, 32 pool connections per process (96). A claim or a finish is
; a transaction; no transaction stays open across a destination call (jobs are leased), so 24 are plenty.
hookline_work = host=$(ip_of lb) port=$pg_lb_port dbname=hookline pool_size=24

[pgbouncer]
listen_addr = $(ip_of pgb)
listen_port = $pgbouncer_port
unix_socket_dir =
auth_type = scram-sha-256
auth_file = $dir/userlist.txt
stats_users = hookline
pool_mode = transaction
; 128 Hookline clients; room for twice as many hosts, and for a killed process's connections.
max_client_conn = 400
reserve_pool_size = 4
reserve_pool_timeout = 1
; Transaction mode resets nothing between clients (server_reset_query runs only in session mode): Hookline
; sets nothing on a session but statement_timeout (see above), prepares nothing (--no-prepared-statements)
; and LISTENs on a direct connection.
server_reset_query = DISCARD ALL
server_reset_query_always = 0
; A failover: the old primary's server connections break (or HAProxy cuts them); new ones fail until HAProxy
; has marked the new primary up (1-2 s after the promotion). Retry a failed login after 1 s, not 15.
server_login_retry = 1
server_connect_timeout = 3
; A client waiting longer than serve's database timeout plus its 5 s grace gets an error, not a hang.
query_wait_timeout = 15
server_idle_timeout = 300
server_check_delay = 10
tcp_keepalive = 1
tcp_keepidle = 10
tcp_keepintvl = 5
tcp_keepcnt = 3
tcp_user_timeout = 20000
log_connections = 0
log_disconnections = 1
INI
  chown postgres: "$dir/pgbouncer.ini" "$dir/userlist.txt"
}

start_pgbouncer() {
  alive pgb && return 0
  write_pgbouncer_config
  # PgBouncer refuses to run as root.
  start_in pgb setpriv --reuid=postgres --regid=postgres --init-groups -- pgbouncer "$state/pgb/pgbouncer.ini"
  wait_for 20 "pgbouncer reaching the primary" \
    psql "$(pgbouncer_url serve)" -X -q -At -c "SELECT 1"
  log "pgbouncer up on $(ip_of pgb):$pgbouncer_port (transaction mode, through $(ip_of lb):$pg_lb_port)"
}

pgbouncer_pools() { # PgBouncer's SHOW POOLS for the two pools: clients active/waiting, servers active/idle
  psql "host=$(ip_of pgb) port=$pgbouncer_port dbname=pgbouncer user=hookline password=$(secret hookline) connect_timeout=2" \
    -X -q -A -F ' ' -P footer=off -c "SHOW POOLS" 2>/dev/null |
    awk 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
      $1 ~ /^hookline_/ { printf "%s%s: clients %s active %s waiting, servers %s active %s idle", sep, $1,
        $c["cl_active"], $c["cl_waiting"], $c["sv_active"], $c["sv_idle"]; sep = "; " }'
}
