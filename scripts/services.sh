# Local servers the integration tests need, started by ./scripts/test (source this file, then call
# start_postgres). Each is a throw-away instance on a free loopback port, stopped on exit.
#
# - PostgreSQL (Debian package `postgresql`, installed when missing): the legacy user store of
#   the user-migration tests, with a random password. Exports LEGACY_TEST_DATABASE_URL.
# - MariaDB (Debian package `mariadb-server`, installed when missing): the MySQL legacy user
#   store, a user `legacy` with a random password and a database `legacy`, TLS with a throw-away
#   CA. Exports LEGACY_TEST_MYSQL_URL and LEGACY_TEST_MYSQL_CA (the CA's PEM file).
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

start_mariadb() {
  if ! command -v mariadbd >/dev/null && [ ! -x /usr/sbin/mariadbd ]; then
    echo "installing MariaDB (Debian package mariadb-server)"
    _as_root apt-get update -qq
    _as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mariadb-server mariadb-client >/dev/null
  fi
  local daemon=/usr/sbin/mariadbd data port password
  command -v mariadbd >/dev/null && daemon=$(command -v mariadbd)
  data=$(mktemp -d "${TMPDIR:-/tmp}/legacy-mariadb.XXXXXX")
  _MARIADB_DATA=$data
  port=$(_free_port)
  password=$(python3 -c 'import secrets; print(secrets.token_hex(16))')
  local as=()
  if [ "$(id -u)" = 0 ]; then
    chown mysql: "$data" 2>/dev/null || true
    as=(--user=mysql)
  fi
  # A throw-away CA and a server certificate for 127.0.0.1, for the TLS tests.
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=legacy test CA" \
    -keyout "$data/ca.key" -out "$data/ca.pem" >/dev/null 2>&1
  openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout "$data/server.key" \
    -out "$data/server.csr" >/dev/null 2>&1
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n' >"$data/san.ext"
  openssl x509 -req -in "$data/server.csr" -CA "$data/ca.pem" -CAkey "$data/ca.key" -CAcreateserial \
    -days 2 -extfile "$data/san.ext" -out "$data/server.pem" >/dev/null 2>&1
  mariadb-install-db --no-defaults --datadir="$data/db" "${as[@]}" --auth-root-authentication-method=socket \
    --skip-test-db >"$data/install.log" 2>&1 || { cat "$data/install.log" >&2; return 1; }
  [ "$(id -u)" = 0 ] && chown -R mysql: "$data"
  "$daemon" --no-defaults --datadir="$data/db" "${as[@]}" --port="$port" --bind-address=127.0.0.1 \
    --socket="$data/mysqld.sock" --pid-file="$data/mysqld.pid" --skip-name-resolve \
    --innodb-flush-log-at-trx-commit=0 --ssl-ca="$data/ca.pem" --ssl-cert="$data/server.pem" \
    --ssl-key="$data/server.key" --log-error="$data/server.log" >"$data/stdout.log" 2>&1 &
  _MARIADB_PID=$!
  for _ in $(seq 1 150); do
    if mariadb --no-defaults --socket="$data/mysqld.sock" -uroot -e 'SELECT 1' >/dev/null 2>&1; then
      mariadb --no-defaults --socket="$data/mysqld.sock" -uroot -e "
        CREATE DATABASE legacy CHARACTER SET utf8mb4;
        CREATE USER 'legacy'@'127.0.0.1' IDENTIFIED BY '$password';
        GRANT ALL ON legacy.* TO 'legacy'@'127.0.0.1' WITH GRANT OPTION;
        GRANT CREATE USER, CONNECTION ADMIN, PROCESS ON *.* TO 'legacy'@'127.0.0.1';"
      export LEGACY_TEST_MYSQL_URL="mysql://legacy:$password@127.0.0.1:$port/legacy"
      export LEGACY_TEST_MYSQL_CA="$data/ca.pem"
      echo "MariaDB $("$daemon" --version | awk '{print $3}') on 127.0.0.1:$port"
      return 0
    fi
    sleep 0.2
  done
  echo "MariaDB did not start: see $data/server.log" >&2
  cat "$data/server.log" >&2 || true
  return 1
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
  if [ -n "${_MARIADB_PID:-}" ]; then
    kill "$_MARIADB_PID" 2>/dev/null || true
    wait "$_MARIADB_PID" 2>/dev/null || true
    _MARIADB_PID=
    rm -rf "$_MARIADB_DATA"
  fi
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
