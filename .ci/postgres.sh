#!/usr/bin/env bash
# Start a throwaway PostgreSQL cluster on a free local port and print its URL.
# Usage: eval "$(bash .ci/postgres.sh)"   -> exports PERSONALIZE_TEST_POSTGRES_URL
set -euo pipefail
bindir=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
root=$(mktemp -d /tmp/personalize-pg.XXXXXX)
chown postgres:postgres "$root"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
runuser -u postgres -- "$bindir/initdb" -D "$root/data" -U postgres -A trust --no-sync >"$root/initdb.log" 2>&1
runuser -u postgres -- "$bindir/pg_ctl" -D "$root/data" -l "$root/server.log" -w \
  -o "-p $port -k $root -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
  start >&2
echo "export PERSONALIZE_TEST_POSTGRES_URL=postgresql+psycopg://postgres@127.0.0.1:$port/postgres"
echo "export PERSONALIZE_PG_ROOT=$root"
