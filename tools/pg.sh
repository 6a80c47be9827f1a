#!/usr/bin/env bash
# A throwaway PostgreSQL server on 127.0.0.1 for the tests (team mode, issue 8).
#
#   tools/pg.sh run COMMAND...   start a server, run COMMAND with
#                                BILLING_DESKTOP_TEST_PG set to its URL, stop it
#
# The server comes from Debian's packages (installed with apt-get when missing
# and this runs as root); its cluster lives in a temporary folder, listens on a
# free port of 127.0.0.1 only, trusts local connections and is deleted at the
# end. The cluster uses the C locale, as a production database for Billing
# Desktop should (byte-wise text order for the search indexes).
set -euo pipefail

if [ "${1:-}" != "run" ] || [ $# -lt 2 ]; then
  echo "usage: tools/pg.sh run COMMAND..." >&2
  exit 2
fi
shift

find_bindir() {
  local dir
  for dir in /usr/lib/postgresql/*/bin; do
    [ -x "$dir/initdb" ] && { echo "$dir"; return 0; }
  done
  command -v initdb >/dev/null 2>&1 && { dirname "$(command -v initdb)"; return 0; }
  return 1
}

bindir=$(find_bindir || true)
if [ -z "$bindir" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "pg.sh: installing PostgreSQL from Debian's packages" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null \
    || { apt-get update -qq >/dev/null && \
         DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; }
  bindir=$(find_bindir || true)
fi
if [ -z "$bindir" ]; then
  echo "pg.sh: no PostgreSQL server found (Debian: apt-get install postgresql)" >&2
  exit 1
fi

# initdb and postgres refuse to run as root: use the packages' postgres user
as_owner=()
if [ "$(id -u)" = 0 ]; then
  id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
  as_owner=(runuser -u postgres --)
fi

cluster=$(mktemp -d /tmp/billing-pg.XXXXXX)
chmod 755 "$cluster"
[ ${#as_owner[@]} -gt 0 ] && chown postgres "$cluster"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

cleanup() {
  "${as_owner[@]}" "$bindir/pg_ctl" -D "$cluster/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$cluster"
}
trap cleanup EXIT

"${as_owner[@]}" "$bindir/initdb" -D "$cluster/data" -U postgres -A trust \
  --no-locale -E UTF8 >"$cluster/initdb.log" 2>&1 \
  || { cat "$cluster/initdb.log" >&2; exit 1; }
"${as_owner[@]}" "$bindir/pg_ctl" -D "$cluster/data" -l "$cluster/server.log" -w -t 60 \
  -o "-h 127.0.0.1 -p $port -k $cluster -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
  start >/dev/null \
  || { cat "$cluster/server.log" >&2; exit 1; }

export BILLING_DESKTOP_TEST_PG="postgresql+psycopg://postgres@127.0.0.1:$port/postgres"
echo "pg.sh: PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') on 127.0.0.1:$port" >&2
set +e
"$@"
status=$?
set -e
exit $status
