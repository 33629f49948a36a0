# shellcheck shell=bash disable=SC2154  # the globals are scripts/cluster's
# Sourced by scripts/cluster: etcd, and Patroni with PostgreSQL 15 on pg1 and pg2; what their REST APIs say.

start_etcd() {
  alive etcd && return 0
  local ip
  ip=$(ip_of etcd)
  mkdir -p "$state/etcd"
  start_in etcd etcd --name etcd1 --data-dir "$state/etcd/data" \
    --listen-client-urls "http://$ip:2379" --advertise-client-urls "http://$ip:2379" \
    --listen-peer-urls "http://$ip:2380" --initial-advertise-peer-urls "http://$ip:2380" \
    --initial-cluster "etcd1=http://$ip:2380" --initial-cluster-state new \
    --heartbeat-interval 100 --election-timeout 1000
  wait_for 30 "etcd answering" curl -fsS "http://$ip:2379/health"
  log "etcd up on $ip:2379"
}

write_patroni_config() {
  local host=$1 ip dir
  ip=$(ip_of "$host")
  dir=$state/$host
  mkdir -p "$dir/run" "$state/logs/$host-postgres"
  chown postgres: "$dir" "$dir/run" "$state/logs/$host-postgres"
  chmod 700 "$dir"
  cp "$state/secrets/hookline" "$dir/hookline-password"
  chown postgres: "$dir/hookline-password"
  chmod 600 "$dir/hookline-password"
  (umask 077; cat >"$dir/patroni.yml" <<YAML
# Written by scripts/cluster.
scope: hookline
namespace: /hookline/
name: $host
log:
  level: INFO
restapi:
  listen: $ip:8008
  connect_address: $ip:8008
etcd3:
  hosts: $(ip_of etcd):2379
bootstrap:
  dcs:
    # The leader key lives 12 s unless renewed: a dead primary is replaced 12-15 s after it stopped renewing.
    ttl: 12
    loop_wait: 2
    retry_timeout: 5
    maximum_lag_on_failover: 1048576
    # Commits wait for the standby's flush (synchronous_commit on), and only the synchronous standby may be
    # promoted: a commit Hookline acknowledged is on both nodes. Not strict: with the standby gone the primary
    # goes on alone (writes keep working) rather than blocking every commit until a standby is back.
    synchronous_mode: true
    synchronous_mode_strict: false
    postgresql:
      use_pg_rewind: true
      use_slots: true
      parameters:
        wal_log_hints: 'on'
        max_connections: 400
        max_wal_senders: 10
        max_replication_slots: 10
        wal_keep_size: 512MB
        hot_standby: 'on'
        fsync: 'on'
        synchronous_commit: 'on'
        full_page_writes: 'on'
        shared_buffers: 256MB
        autovacuum_naptime: 10s
        max_wal_size: 2GB
        min_wal_size: 512MB
  initdb:
    - encoding: UTF8
    - no-locale
    - data-checksums
  post_bootstrap: $lib/post_bootstrap.sh $dir/hookline-password
postgresql:
  listen: '$ip,127.0.0.1:5432'
  connect_address: $ip:5432
  data_dir: $dir/data
  bin_dir: $bindir
  pgpass: $dir/pgpass
  # A standby's base backup asks for an immediate checkpoint rather than waiting for a spread one.
  basebackup:
    - checkpoint: fast
  authentication:
    superuser:
      username: postgres
      password: '$(secret postgres)'
    replication:
      username: replicator
      password: '$(secret replicator)'
    rewind:
      username: postgres
      password: '$(secret postgres)'
  parameters:
    unix_socket_directories: '$dir/run'
    logging_collector: 'on'
    log_directory: '$state/logs/$host-postgres'
    log_min_messages: warning
    log_line_prefix: '%m [%p] %q%u@%d '
  pg_hba:
    - local all all trust
    - host all all 127.0.0.1/32 scram-sha-256
    # Patroni on a standby asks its own server for the timeline over a local replication connection.
    - host replication replicator 127.0.0.1/32 scram-sha-256
    - host replication replicator $subnet.0/24 scram-sha-256
    - host all all $subnet.0/24 scram-sha-256
YAML
  )
  chown postgres: "$dir/patroni.yml"
}

start_patroni() {
  local host=$1
  alive "$host" && return 0
  write_patroni_config "$host"
  start_in "$host" setpriv --reuid=postgres --regid=postgres --init-groups -- env HOME="$state/$host" \
    patroni "$state/$host/patroni.yml"
  log "patroni started on $host ($(ip_of "$host"))"
}

patroni_role() { # the role Patroni's REST API gives for host $1 (primary, replica, …) or nothing
  curl -s --max-time 2 "http://$(ip_of "$1"):8008/patroni" |
    python3 -c 'import json,sys; print(json.load(sys.stdin).get("role", ""))' 2>/dev/null || true
}

primary() { # the host whose Patroni answers 200 to GET /primary
  local host
  for host in pg1 pg2; do
    if [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://$(ip_of "$host"):8008/primary")" = 200 ]; then
      echo "$host"
      return 0
    fi
  done
  return 1
}

has_sync_standby() { # whether a node answers 200 to GET /sync (it is the synchronous standby)
  local host
  for host in pg1 pg2; do
    [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://$(ip_of "$host"):8008/sync")" = 200 ] && return 0
  done
  return 1
}
