# Local servers the integration tests need, started by ./scripts/test (source this file, then call
# start_postgres). Each is a throw-away instance on a free loopback port, stopped on exit.
#
# - PostgreSQL (Debian package `postgresql`, installed when missing): the legacy user store of
#   the user-migration tests. Exports LEGACY_TEST_DATABASE_URL.

_as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    echo "need root (or sudo) to run: $*" >&2; return 1
  fi
}

_free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

_postgres_bin() {
  ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

start_postgres() {
  local bin data port
  bin=$(_postgres_bin)
  if [ -z "$bin" ] || [ ! -x "$bin/initdb" ] || ! command -v psql >/dev/null; then
    echo "installing PostgreSQL (Debian package postgresql)"
    _as_root apt-get update -qq
    _as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    bin=$(_postgres_bin)
  fi
  data=$(mktemp -d "${TMPDIR:-/tmp}/legacy-postgres.XXXXXX")
  port=$(_free_port)
  # initdb refuses to run as root: run the server as the package's `postgres` user then.
  local as=()
  if [ "$(id -u)" = 0 ]; then
    chown postgres: "$data"
    as=(runuser -u postgres --)
  fi
  "${as[@]}" "$bin/initdb" -D "$data" -A trust -U postgres --no-sync >/dev/null
  "${as[@]}" "$bin/pg_ctl" -D "$data" -l "$data/server.log" -w -t 60 \
    -o "-p $port -k $data -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off" \
    start >/dev/null
  _POSTGRES_STOP=("${as[@]}" "$bin/pg_ctl" -D "$data" -m immediate stop)
  _POSTGRES_DATA=$data
  export LEGACY_TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres"
  echo "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port"
}

stop_services() {
  if [ -n "${_POSTGRES_DATA:-}" ]; then
    "${_POSTGRES_STOP[@]}" >/dev/null 2>&1 || true
    rm -rf "$_POSTGRES_DATA"
    _POSTGRES_DATA=
  fi
}
