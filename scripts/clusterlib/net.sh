# shellcheck shell=bash disable=SC2154  # the globals are scripts/cluster's
# Sourced by scripts/cluster: the network. A namespace hl-<host> per host, joined to the bridge by a veth
# (hlv-<host> in the root namespace, eth0 inside).

network_up() {
  if ! ip link show "$bridge" >/dev/null 2>&1; then
    ip link add "$bridge" type bridge
    ip addr add "$subnet.1/24" dev "$bridge"
  fi
  ip link set "$bridge" up
  local host ns veth
  for host in "${hosts[@]}"; do
    ns=hl-$host veth=hlv-$host
    ip netns list | grep -qw "^$ns" || ip netns add "$ns"
    if ! ip link show "$veth" >/dev/null 2>&1; then
      ip link add "$veth" type veth peer name eth0 netns "$ns"
      ip link set "$veth" master "$bridge" up
      ip -n "$ns" addr add "$(ip_of "$host")/24" dev eth0
    fi
    ip link set "$veth" up  # again: a failover --primary-fault isolate took it down
    ip -n "$ns" link set lo up
    ip -n "$ns" link set eth0 up
  done
}

network_down() {
  local host
  for host in "${all_hosts[@]}"; do
    ip link del "hlv-$host" 2>/dev/null || true
    ip netns del "hl-$host" 2>/dev/null || true
  done
  ip link del "$bridge" 2>/dev/null || true
}
