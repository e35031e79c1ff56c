# Local servers the integration tests need, started by ./scripts/test (source this file, then call
# start_postgres). Each is a throw-away instance on a free loopback port, stopped on exit.
#
# - PostgreSQL (Debian package `postgresql`, installed when missing): the legacy user store of
#   the user-migration tests, with a random password. Exports LEGACY_TEST_DATABASE_URL.
# - moto's server (PyPI `moto[server]`, installed when missing), which speaks DynamoDB's API:
#   the abuse-protection state table, run by scripts/moto_dynamodb.py one request at a time (as
#   DynamoDB applies each write to an item atomically; moto's threaded server does not). Exports
#   STATE_TEST_DYNAMODB_URL.

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
  _POSTGRES_DATA=$data
  port=$(_free_port)
  local password
  password=$(python3 -c 'import secrets; print(secrets.token_hex(16))')
  printf '%s\n' "$password" >"$data.pw"
  # initdb refuses to run as root: run the server as the package's `postgres` user then.
  local as=()
  if [ "$(id -u)" = 0 ]; then
    chown postgres: "$data" "$data.pw"
    as=(runuser -u postgres --)
  fi
  "${as[@]}" "$bin/initdb" -D "$data" -A scram-sha-256 -U postgres --pwfile="$data.pw" --no-sync >/dev/null
  rm -f "$data.pw"
  _POSTGRES_STOP=("${as[@]}" "$bin/pg_ctl" -D "$data" -m immediate stop)
  "${as[@]}" "$bin/pg_ctl" -D "$data" -l "$data/server.log" -w -t 60 \
    -o "-p $port -k $data -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off" \
    start >/dev/null
  export LEGACY_TEST_DATABASE_URL="postgres://postgres:$password@127.0.0.1:$port/postgres"
  echo "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port"
}

start_moto() {
  if ! command -v moto_server >/dev/null; then
    echo "installing moto's server (PyPI moto[server])"
    python3 -m pip install --quiet --disable-pip-version-check "moto[server]"
  fi
  local port
  port=$(_free_port)
  python3 "$(dirname "${BASH_SOURCE[0]}")/moto_dynamodb.py" -H 127.0.0.1 -p "$port" \
    >"${TMPDIR:-/tmp}/moto-$port.log" 2>&1 &
  _MOTO_PID=$!
  local url="http://127.0.0.1:$port"
  for _ in $(seq 1 100); do
    if python3 -c "import urllib.request,sys; urllib.request.urlopen(sys.argv[1], timeout=1)" "$url/moto-api/" >/dev/null 2>&1; then
      export STATE_TEST_DYNAMODB_URL=$url
      echo "moto $(python3 -c "import moto; print(moto.__version__)" 2>/dev/null) (DynamoDB API) on 127.0.0.1:$port"
      return 0
    fi
    sleep 0.2
  done
  echo "moto's server did not start: see ${TMPDIR:-/tmp}/moto-$port.log" >&2
  return 1
}

# Debian's Chromium for the demo page's browser test (playwright-core drives it; no download
# from a browser vendor).
ensure_chromium() {
  if [ ! -x /usr/bin/chromium ]; then
    echo "installing Chromium (Debian package chromium)"
    _as_root apt-get update -qq
    _as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  fi
  echo "$(/usr/bin/chromium --version 2>/dev/null | head -n 1)"
}

stop_services() {
  if [ -n "${_MOTO_PID:-}" ]; then
    kill "$_MOTO_PID" 2>/dev/null || true
    _MOTO_PID=
  fi
  if [ -n "${_POSTGRES_DATA:-}" ]; then
    "${_POSTGRES_STOP[@]}" >/dev/null 2>&1 || true
    rm -rf "$_POSTGRES_DATA"
    _POSTGRES_DATA=
  fi
}
