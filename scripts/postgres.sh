#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the central store, on loopback, for tests and trials.
#
#   scripts/postgres.sh start [DIR]   initialise DIR (default: a new /tmp/roadside-pg.XXXXXX),
#                                     start the server, print its URL and how to stop it
#   scripts/postgres.sh stop DIR      stop the server of DIR and delete DIR
#
# The URL names the server's `postgres` database as the user `roadside` (trust
# authentication, loopback only): `roadside central init --store URL` wants a database of
# its own, so create one first (`psql URL -c 'CREATE DATABASE central'`, then use .../central).
# The tests take the URL from ROADSIDE_TEST_POSTGRES_URL and create a database per test.
#
# PostgreSQL refuses to run as root; as root the cluster belongs to the `postgres` user
# (Debian's package creates it) and runs through runuser.
set -euo pipefail

bin_dir() {
  local dir
  for dir in $(ls -d /usr/lib/postgresql/*/bin 2> /dev/null | sort -V -r); do
    [[ -x "$dir/initdb" ]] && { echo "$dir"; return; }
  done
  command -v initdb > /dev/null && { dirname "$(command -v initdb)"; return; }
  echo "error: no PostgreSQL server here; install it (apt-get install postgresql) and try again" >&2
  exit 69
}

as_owner() {
  if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

case "${1:-}" in
  start)
    bin=$(bin_dir)
    dir=${2:-$(mktemp -d /tmp/roadside-pg.XXXXXX)}
    mkdir -p "$dir"
    [[ $(id -u) -eq 0 ]] && chown postgres "$dir"
    port=$(free_port)
    as_owner "$bin/initdb" -D "$dir/data" -U roadside -A trust -E UTF8 --locale=C.UTF-8 \
      > "$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 70; }
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=200" start \
      > /dev/null || { cat "$dir/server.log" >&2; exit 70; }
    echo "ROADSIDE_TEST_POSTGRES_URL=postgresql://roadside@127.0.0.1:$port/postgres"
    echo "# stop it with: scripts/postgres.sh stop $dir"
    ;;
  stop)
    dir=${2:?usage: scripts/postgres.sh stop DIR}
    bin=$(bin_dir)
    if [[ -d "$dir/data" ]]; then
      as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop > /dev/null || true
    fi
    rm -rf "$dir"
    ;;
  *)
    echo "usage: scripts/postgres.sh start [DIR] | stop DIR" >&2
    exit 64
    ;;
esac
