#!/usr/bin/env bash
# Three hosts in network namespaces on one bridge: they find each other by mDNS alone
# and converge; a cut link is restored and they converge again; with 5 % random packet
# loss (nftables) they still converge. Needs root; prints SKIP (exit 0) when the
# machine cannot make namespaces. Usage: bash tests/netns/run.sh  (QOIMA_BIN to choose
# the binary; default target/debug/qoima, built if missing).
set -euo pipefail
cd "$(dirname "$0")/../.."

skip() { echo "SKIP: $*"; exit 0; }
[ "$(id -u)" = 0 ] || skip "network namespaces need root"
command -v ip >/dev/null || skip "iproute2 (ip) is not installed"
probe="qn-probe-$$"
ip netns add "$probe" 2>/dev/null || skip "this kernel or container cannot create network namespaces"
ip netns del "$probe"
command -v nft >/dev/null || skip "nftables (nft) is not installed"

QOIMA=${QOIMA_BIN:-target/debug/qoima}
[ -x "$QOIMA" ] || cargo build -q -p qoima-cli
QOIMA=$(realpath "$QOIMA")

P="qn$$"                 # prefix of everything this run creates
SW="$P-sw"
WORK=$(mktemp -d /tmp/qoima-netns.XXXXXX)
HOSTS=(1 2 3)
PIDS=()

cleanup() {
  status=$?
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ "$status" != 0 ]; then
    for h in "${HOSTS[@]}"; do
      echo "----- last lines of host $h's node log -----"
      tail -n 50 "$WORK/h$h.log" 2>/dev/null || true
    done
  fi
  for h in "${HOSTS[@]}"; do ip netns del "$P-h$h" 2>/dev/null || true; done
  ip netns del "$SW" 2>/dev/null || true
  rm -rf "$WORK"
  exit "$status"
}
trap cleanup EXIT

ns() { local h=$1; shift; ip netns exec "$P-h$h" "$@"; }
q() { local h=$1; shift; QOIMA_HOME="$WORK/h$h" QOIMA_PASSPHRASE=netns "$QOIMA" "$@"; }
ids() { q "$1" list --json --limit 1000000 | python3 -c 'import json,sys; print(" ".join(sorted(r["id"] for r in json.load(sys.stdin))))'; }
count() { q "$1" list --json --limit 1000000 | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'; }
add() { q "$1" add testimony --title "$2" --text "written on host $1" ; }

# wait_until DESCRIPTION SECONDS COMMAND...: polls COMMAND every 0.5 s.
wait_until() {
  local what=$1 limit=$2; shift 2
  local start=$SECONDS
  until "$@"; do
    if (( SECONDS - start > limit )); then echo "FAIL: timed out after ${limit}s waiting for $what"; return 1; fi
    sleep 0.5
  done
  echo "ok: $what ($((SECONDS - start)) s)"
}

converged() {
  local first; first=$(ids "${HOSTS[0]}")
  for h in "${HOSTS[@]}"; do [ "$(ids "$h")" = "$first" ] || return 1; done
  [ -n "$first" ]
}
has_all() { local expect=$1; for h in "${HOSTS[@]}"; do [ "$(count "$h")" = "$expect" ] || return 1; done; }
connected_to_others() {
  for h in "${HOSTS[@]}"; do
    local n; n=$(q "$h" peers --json | python3 -c 'import json,sys; print(sum(1 for p in json.load(sys.stdin) if p["connected"]))')
    [ "$n" -ge 2 ] || return 1
  done
}

echo "== network: a bridge in namespace $SW, hosts ${HOSTS[*]} on 10.77.0.0/24"
ip netns add "$SW"
ip -n "$SW" link add br0 type bridge
ip -n "$SW" link set br0 type bridge mcast_snooping 0
ip -n "$SW" link set br0 up
for h in "${HOSTS[@]}"; do
  ip netns add "$P-h$h"
  ip link add "$P-e$h" type veth peer name "$P-s$h"
  ip link set "$P-e$h" netns "$P-h$h"
  ip link set "$P-s$h" netns "$SW"
  ip -n "$SW" link set "$P-s$h" master br0 up
  ns "$h" ip link set lo up
  ns "$h" ip link set "$P-e$h" name eth0
  ns "$h" ip addr add "10.77.0.$h/24" dev eth0
  ns "$h" ip link set eth0 up
  ns "$h" ip route add 224.0.0.0/4 dev eth0
done

echo "== nodes: mDNS only, no --peer"
for h in "${HOSTS[@]}"; do
  q "$h" init >/dev/null
  for i in 1 2; do add "$h" "host $h record $i" >/dev/null; done
  ns "$h" env QOIMA_HOME="$WORK/h$h" "$QOIMA" node --sync-every 2 -v >"$WORK/h$h.log" 2>&1 &
  PIDS+=($!)
done
wait_until "hosts to find each other by mDNS" 60 connected_to_others
wait_until "all three archives to converge (6 records)" 60 has_all 6
converged

echo "== link cut: host 3 unplugged"
ip -n "$SW" link set "$P-s3" down
cut1=$(add 1 "written on host 1 during the cut")
add 3 "written on host 3 during the cut" >/dev/null
wait_until "hosts 1 and 2 to share the new record" 30 bash -c "[ \"\$(QOIMA_HOME=$WORK/h2 $QOIMA list --json | grep -c $cut1)\" = 1 ]"
sleep 3
if ids 3 | grep -q "$cut1"; then echo "FAIL: host 3 received a record while unplugged"; exit 1; fi
echo "ok: host 3 did not receive it while unplugged"
ip -n "$SW" link set "$P-s3" up
wait_until "all three to converge after the link is restored (8 records)" 90 has_all 8
converged

echo "== 5 % random packet loss on every host"
for h in "${HOSTS[@]}"; do
  ns "$h" nft add table inet qoima_loss
  ns "$h" nft add chain inet qoima_loss input '{ type filter hook input priority 0; policy accept; }'
  ns "$h" nft add rule inet qoima_loss input numgen random mod 100 '<' 5 counter drop
  ns "$h" nft add chain inet qoima_loss output '{ type filter hook output priority 0; policy accept; }'
  ns "$h" nft add rule inet qoima_loss output numgen random mod 100 '<' 5 counter drop
done
for i in $(seq 1 50); do add $(( (i % 3) + 1 )) "lossy $i" >/dev/null; done
wait_until "all three to converge under packet loss (58 records)" 120 has_all 58
converged
dropped=0
for h in "${HOSTS[@]}"; do
  n=$(ns "$h" nft list table inet qoima_loss | grep -o 'packets [0-9]*' | awk '{s += $2} END {print s + 0}')
  dropped=$((dropped + n))
done
echo "ok: $dropped packets were dropped on the way"
[ "$dropped" -gt 0 ] || { echo "FAIL: the loss rules dropped nothing"; exit 1; }

echo "PASS: discovery by mDNS, link cut and restore, 5 % packet loss"
