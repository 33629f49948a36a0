# shellcheck shell=bash disable=SC2154  # the globals are scripts/cluster's
# Sourced by scripts/cluster: logging, the state directory, secrets, connection strings, and starting, watching
# and stopping the processes of a host (each in its namespace, its pid in $state/run/<host>.pid).

log() { echo "cluster: $*" >&2; }
die() { log "$*"; exit 1; }
ip_of() { echo "$subnet.${address[$1]}"; }

ensure_installed() {
  local missing=()
  command -v patroni >/dev/null 2>&1 || missing+=(patroni)
  command -v etcd >/dev/null 2>&1 || missing+=(etcd-server)
  command -v etcdctl >/dev/null 2>&1 || missing+=(etcd-client)
  command -v haproxy >/dev/null 2>&1 || missing+=(haproxy)
  command -v pgbouncer >/dev/null 2>&1 || missing+=(pgbouncer)
  [ -x "$bindir/postgres" ] || missing+=(postgresql-15)
  command -v psql >/dev/null 2>&1 || missing+=(postgresql-client)
  command -v curl >/dev/null 2>&1 || missing+=(curl)
  command -v python3 >/dev/null 2>&1 || missing+=(python3)
  command -v wrk >/dev/null 2>&1 || missing+=(wrk)
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing ${missing[*]} with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq "${missing[@]}" >&2
}

choose_state() {
  state=${HOOKLINE_CLUSTER_DIR:-$root/.hookline/cluster}
  mkdir -p "$state"
  if ! (cd / && runuser -u postgres -- test -x "$state") 2>/dev/null; then
    state=/var/tmp/hookline-cluster-$(printf '%s' "$root" | sha1sum | cut -c1-12)
    # A guessable name in a directory everyone writes: one someone else made first (a link, a directory of
    # theirs) is refused, never followed; mkdir without -p fails if the name is taken in between.
    if [ -L "$state" ] || { [ -e "$state" ] && [ "$(stat -c %u "$state")" != 0 ]; }; then
      die "$state exists and is not root's own directory: remove it, or set HOOKLINE_CLUSTER_DIR"
    fi
    [ -d "$state" ] || mkdir -m 755 "$state" || die "could not make $state"
  fi
  mkdir -p "$state/run" "$state/logs" "$state/secrets"
  chmod 700 "$state/secrets"
}

# The variant: direct (every Hookline connection to the nodes) or pgbouncer. `up --pgbouncer` records it in the
# state directory, `down` forgets it; every other command, and `up` without a flag, follows what is recorded.
# Its hosts join ${hosts[@]}.
choose_variant() { # $1: the variant asked for, or nothing
  local recorded=
  [ -s "$state/variant" ] && recorded=$(cat "$state/variant")
  variant=${1:-${recorded:-direct}}
  if [ -n "$recorded" ] && [ "$recorded" != "$variant" ]; then
    die "the cluster is up as the $recorded variant: scripts/cluster down first"
  fi
  echo "$variant" >"$state/variant"
  variant_hosts
}

read_variant() {
  variant=$(cat "$state/variant" 2>/dev/null || echo direct)
  variant_hosts
}

variant_hosts() {
  if [ "$variant" = pgbouncer ] && [[ " ${hosts[*]} " != *" pgb "* ]]; then hosts+=(pgb); fi
}

secret() { # the generated password named $1, created once
  local file=$state/secrets/$1
  [ -s "$file" ] || (umask 077; head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$file")
  cat "$file"
}

database_url() {
  # connect_timeout=2 (libpq's least; Hookline's default is 10): libpq tries the hosts in order and waits that
  # long for each that does not answer, so a first host gone off the network (no RST) costs every new
  # connection that much before it tries the next. (It did not shorten the ingress's outage after such a
  # loss: see docs/scaling.md.)
  echo "host=$(ip_of pg1),$(ip_of pg2) port=5432 dbname=hookline user=hookline password=$(secret hookline) connect_timeout=2 target_session_attrs=read-write"
}

pid_of() { cat "$state/run/$1.pid" 2>/dev/null || true; }

alive() { # whether the process of host $1 runs (its pid file names a live, non-zombie process in its namespace)
  local pid
  pid=$(pid_of "$1")
  [ -n "$pid" ] && [ -e "/proc/$pid" ] && ! grep -q '^State:.*Z' "/proc/$pid/status" 2>/dev/null \
    && ours "$1" "$pid"
}

# Whether process $2 is in host $1's namespace: a pid file left from before a reboot can name any process now.
ours() { [ "$(ip netns identify "$2" 2>/dev/null)" = "hl-$1" ]; }

# Starts a command in host $1's namespace, in a session of its own, its output in logs/$1.log.
start_in() {
  local host=$1
  shift
  setsid ip netns exec "hl-$host" "$@" >>"$state/logs/$host.log" 2>&1 </dev/null &
  echo $! >"$state/run/$host.pid"
}


wait_for() { # wait_for SECONDS DESCRIPTION COMMAND…
  local seconds=$1 what=$2
  shift 2
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || die "$what: not within $seconds s (logs in $state/logs)"
    sleep 0.5
  done
}

stop_process() { # TERM, then KILL after $2 seconds; also whatever else still runs in the namespace
  local host=$1 grace=${2:-30} pid
  pid=$(pid_of "$host")
  if [ -n "$pid" ] && [ -e "/proc/$pid" ] && ours "$host" "$pid"; then
    kill -TERM "$pid" 2>/dev/null || true
    local deadline=$((SECONDS + grace))
    while [ -e "/proc/$pid" ] && [ $SECONDS -lt $deadline ]; do sleep 0.2; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$state/run/$host.pid"
  # Left-overs of this host (a postmaster whose Patroni was killed, worker processes of a killed
  # supervisor): the processes of its namespace, which this script started.
  if ip netns list | grep -qw "^hl-$host"; then
    local pids
    pids=$(ip netns pids "hl-$host" 2>/dev/null || true)
    if [ -n "$pids" ]; then
      # shellcheck disable=SC2086
      kill -TERM $pids 2>/dev/null || true
      sleep 2
      pids=$(ip netns pids "hl-$host" 2>/dev/null || true)
      # shellcheck disable=SC2086
      [ -z "$pids" ] || kill -KILL $pids 2>/dev/null || true
    fi
  fi
}
