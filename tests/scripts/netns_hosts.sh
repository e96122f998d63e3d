# Hosts made on this machine for Open MPI, sourced by tests/scripts/multihost_test.sh and
# bench/overlap.sh. `make_hosts N RATE WORK` makes N network namespaces (each its own
# network stack; through unshare, its own host name), joined by veth pairs to a bridge whose
# address mpirun listens on, with links of RATE (tc's tbf, e.g. 1gbit; "" or no tc: memory
# speed). It sets:
#   hosts    the host (namespace) names
#   across   the mpirun command line that starts ranks on them over TCP only, reaching each
#            namespace through `ip netns exec` as its remote agent (where ssh would be)
# and returns 77 with a reason on stdout where namespaces cannot be made. remove_hosts ends
# every process left in them and removes them.

make_hosts() {
  _netns_round=$((${_netns_round:-0} + 1))  # a second set gets new names
  local count=$1 rate=$2 work=$3 id=$((($$ * 8 + _netns_round) % 100000)) i h
  local letters=(a b c d e f g h)
  local net=10.213.$((id % 250))
  bridge=tgmb$id
  hosts=()
  for ((i = 0; i < count; ++i)); do hosts+=("tgmh$id${letters[$i]}"); done
  [ "$(id -u)" = 0 ] || { echo "needs root to make network namespaces"; return 77; }
  command -v ip > /dev/null || { echo "no ip command (iproute2)"; return 77; }
  unshare --uts true 2> /dev/null || { echo "unshare --uts is refused here"; return 77; }
  ip link add "$bridge" type bridge 2> "$work/ip.err" ||
    { echo "cannot make a bridge: $(cat "$work/ip.err")"; return 77; }
  ip addr add "$net.1/24" dev "$bridge" && ip link set "$bridge" up ||
    { echo "cannot set up the bridge"; return 77; }
  for ((i = 0; i < count; ++i)); do
    h=${hosts[$i]}
    ip netns add "$h" 2> "$work/ip.err" ||
      { echo "cannot make a network namespace: $(cat "$work/ip.err")"; return 77; }
    ip link add "tgmv$id$i" type veth peer name eth0 netns "$h" &&
      ip link set "tgmv$id$i" master "$bridge" up &&
      ip -n "$h" addr add "$net.$((i + 11))/24" dev eth0 &&
      ip -n "$h" link set eth0 up && ip -n "$h" link set lo up ||
      { echo "cannot link $h to the bridge"; return 77; }
    if [ -n "$rate" ] && ! ip netns exec "$h" tc qdisc add dev eth0 root tbf rate "$rate" \
      burst 256kb latency 20ms 2> /dev/null; then
      echo "netns_hosts: no tc rate limit on $h (links unshaped)" >&2
    fi
  done
  # Open MPI's remote agent: `agent HOST COMMAND-LINE` runs the line in HOST's namespace
  # under its own host name, as `ssh HOST COMMAND-LINE` would on a real host.
  cat > "$work/agent" << 'EOF'
#!/bin/bash
host=$1
shift
exec ip netns exec "$host" unshare --uts bash -c 'hostname "$1"; eval "$2"' _ "$host" "$*"
EOF
  chmod +x "$work/agent"
  printf '%s slots=1\n' "${hosts[@]}" > "$work/hostfile"
  across=("$MPIEXEC" --allow-run-as-root --bind-to none --hostfile "$work/hostfile"
    --mca plm_rsh_agent "$work/agent" --mca btl tcp,self
    --mca btl_tcp_if_include "$net.0/24" --mca oob_tcp_if_include "$net.0/24")
}

remove_hosts() {
  local h pid
  for h in "${hosts[@]}"; do
    for pid in $(ip netns pids "$h" 2> /dev/null); do kill -9 "$pid" 2> /dev/null; done
    ip netns del "$h" 2> /dev/null
  done
  [ -n "${bridge:-}" ] && ip link del "$bridge" 2> /dev/null
  return 0
}
