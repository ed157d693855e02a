#!/usr/bin/env bash
# Kannel (a real SMS and WAP Push gateway) on loopback for the notifier's
# integration tests: bearerbox with a fake SMSC, fakesmsc playing the
# handsets (it prints every message it receives), smsbox (sendsms HTTP) and
# wapbox (the PPG's PAP interface). Runs as the unprivileged user `kannel`
# when started as root.
#   scripts/kannel.sh start   start (or reuse) it; prints the test env lines
#   scripts/kannel.sh stop    stop what `start` started
#   scripts/kannel.sh env     print UPDRAFT_TEST_KANNEL_* lines for a running one
#   scripts/kannel.sh status  exit 0 when this checkout's Kannel is running
# Ports (UPDRAFT_KANNEL_PORT_BASE, default 13100): +0 admin, +1 smsbox,
# +2 wapbox, +10 fake SMSC, +13 sendsms, +80 PPG. When another checkout's
# Kannel holds them, the next free base (13200, 13300, ...) is taken and
# remembered in $RUN_DIR/kannel/port-base. State: $RUN_DIR/kannel.
set -euo pipefail
ROOT="${ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
RUN_DIR="${RUN_DIR:-$ROOT/.run}"
K="$RUN_DIR/kannel"
BASE="${UPDRAFT_KANNEL_PORT_BASE:-}"
[ -n "$BASE" ] || BASE="$(cat "$K/port-base" 2>/dev/null || echo 13100)"
set_ports() {
  ADMIN=$BASE SMSBOX=$((BASE + 1)) WAPBOX=$((BASE + 2)) FAKE=$((BASE + 10))
  SENDSMS=$((BASE + 13)) PPG=$((BASE + 80))
}
set_ports
USER_NAME=updraft PASSWORD=updraft-test
FAKESMSC=/usr/lib/kannel/test/fakesmsc

# Replaces the calling (sub)shell, so that `(as_kannel BOX ...) &` leaves
# the box's own PID in $!.
as_kannel() {
  if [ "$(id -u)" -eq 0 ]; then
    exec setpriv --reuid=kannel --regid=nogroup --clear-groups -- "$@"
  else
    exec "$@"
  fi
}

print_env() {
  echo "UPDRAFT_TEST_KANNEL_SENDSMS=127.0.0.1:$SENDSMS"
  echo "UPDRAFT_TEST_KANNEL_PPG=127.0.0.1:$PPG"
  echo "UPDRAFT_TEST_KANNEL_USER=$USER_NAME"
  echo "UPDRAFT_TEST_KANNEL_PASSWORD=$PASSWORD"
  echo "UPDRAFT_TEST_FAKESMSC_LOG=$K/fakesmsc.out"
}

# This checkout's bearerbox is alive and answers on its admin port.
running() {
  [ -s "$K/bearerbox.pid" ] && kill -0 "$(cat "$K/bearerbox.pid")" 2>/dev/null &&
    curl -sf "http://127.0.0.1:$ADMIN/status.txt?password=$PASSWORD" >/dev/null 2>&1
}

port_taken() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Moves BASE past ports another program (e.g. another checkout's Kannel) holds.
pick_free_base() {
  local b p taken
  for b in $(seq "$BASE" 100 $((BASE + 1000))); do
    taken=0
    for p in $b $((b + 1)) $((b + 2)) $((b + 10)) $((b + 13)) $((b + 80)); do
      if port_taken "$p"; then taken=1; break; fi
    done
    if [ "$taken" -eq 0 ]; then
      BASE=$b
      set_ports
      return 0
    fi
  done
  echo "kannel: no free port base from $BASE" >&2
  exit 1
}

wait_port() {  # host:port, what
  for _ in $(seq 1 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "kannel: $2 did not open port $1 (logs in $K)" >&2
  return 1
}

write_config() {
  cat >"$K/kannel.conf" <<CONF
group = core
admin-port = $ADMIN
admin-interface = 127.0.0.1
admin-password = $PASSWORD
status-password = $PASSWORD
smsbox-port = $SMSBOX
smsbox-interface = 127.0.0.1
wapbox-port = $WAPBOX
box-deny-ip = "*.*.*.*"
box-allow-ip = 127.0.0.1
log-file = "$K/bearerbox.log"
access-log = "$K/access.log"
store-type = file
store-location = "$K/store/kannel.store"
dlr-storage = internal

group = smsc
smsc = fake
smsc-id = FAKE
port = $FAKE
connect-allow-ip = 127.0.0.1

group = smsbox
bearerbox-host = 127.0.0.1
bearerbox-port = $SMSBOX
sendsms-port = $SENDSMS
sendsms-interface = 127.0.0.1
global-sender = 12345
log-file = "$K/smsbox.log"

group = sendsms-user
username = $USER_NAME
password = $PASSWORD
max-messages = 4
concatenation = true

group = sms-service
keyword = default
text = "No service"

group = wapbox
bearerbox-host = 127.0.0.1
log-file = "$K/wapbox.log"

group = ppg
ppg-url = /wappush
ppg-port = $PPG
global-sender = 12345
default-smsc = FAKE
trusted-pi = false
concurrent-pushes = 100
users = 1024

group = wap-push-user
wap-push-user = updraft
ppg-username = $USER_NAME
ppg-password = $PASSWORD
allow-ip = 127.0.0.1
CONF
}

start() {
  if running; then
    echo "kannel: already running (admin port $ADMIN)" >&2
    print_env
    return
  fi
  [ -x /usr/sbin/bearerbox ] && [ -x "$FAKESMSC" ] || {
    echo "kannel: packages kannel and kannel-extras are needed" >&2
    exit 1
  }
  mkdir -p "$K/store"
  pick_free_base
  echo "$BASE" >"$K/port-base"
  rm -f "$K"/store/* "$K"/*.log "$K/fakesmsc.out"
  write_config
  touch "$K/fakesmsc.out"
  [ "$(id -u)" -eq 0 ] && chown -R kannel "$K"
  (as_kannel /usr/sbin/bearerbox "$K/kannel.conf" >/dev/null 2>&1) &
  echo $! >"$K/bearerbox.pid"
  wait_port "$ADMIN" bearerbox
  wait_port "$FAKE" "bearerbox (fake SMSC)"
  # Handsets: receive only; stdout is the log the tests read.
  (as_kannel "$FAKESMSC" -H 127.0.0.1 -r "$FAKE" -m 0 "1 2 text x" >>"$K/fakesmsc.out" 2>&1) &
  echo $! >"$K/fakesmsc.pid"
  (as_kannel /usr/sbin/smsbox "$K/kannel.conf" >/dev/null 2>&1) &
  echo $! >"$K/smsbox.pid"
  (as_kannel /usr/sbin/wapbox "$K/kannel.conf" >/dev/null 2>&1) &
  echo $! >"$K/wapbox.pid"
  wait_port "$SENDSMS" smsbox
  wait_port "$PPG" "wapbox (PPG)"
  if grep -q "bind failed" "$K"/*.log 2>/dev/null; then
    echo "kannel: a port was taken; see $K/*.log" >&2
    stop
    exit 1
  fi
  print_env
}

stop() {
  local f pid
  for f in wapbox smsbox fakesmsc bearerbox; do
    [ -f "$K/$f.pid" ] || continue
    pid="$(cat "$K/$f.pid")"
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    rm -f "$K/$f.pid"
  done
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  env) print_env ;;
  status) running ;;
  *) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
