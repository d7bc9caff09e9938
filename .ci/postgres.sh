#!/usr/bin/env bash
# Start a throwaway PostgreSQL on 127.0.0.1:$1 in a fresh folder (as the postgres user; initdb refuses root).
# Prints the folder; stop it with: pg_ctl -D <folder> stop
set -euo pipefail
port=${1:-54329}
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
dir=$(mktemp -d /tmp/kp-pg.XXXXXX)
chown postgres "$dir"
if [ "$(id -u)" = 0 ]; then as_pg=(runuser -u postgres --); else as_pg=(); fi
"${as_pg[@]}" "$bin/initdb" -D "$dir" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >/dev/null
"${as_pg[@]}" "$bin/pg_ctl" -D "$dir" -l "$dir/log" -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" -w start >/dev/null
echo "$dir"
