#!/usr/bin/env bash
# A throwaway PostgreSQL 15 cluster for the tests: data and socket in a temporary folder, a
# free port on 127.0.0.1, a random password (scram over TCP), TLS on with a certificate for
# localhost/127.0.0.1 signed by a CA of its own, torn down by `stop`.
#
#   eval "$(scripts/postgres.sh start)"    # exports PAYDIGITAL_TEST_POSTGRES, PAYDIGITAL_PG_DIR,
#                                          # PAYDIGITAL_TEST_POSTGRES_CA (the CA's certificate)
#   scripts/postgres.sh pause|resume       # stop/start the same cluster (a database restart)
#   scripts/postgres.sh stop               # stop it and delete the folder
#
# initdb refuses to run as root, so as root the cluster runs as the `postgres` user that
# Debian's postgresql package creates. Every failure says what went wrong, on stderr.
set -euo pipefail

die() {
  echo "postgres.sh: $*" >&2
  exit 1
}

bindir() {
  local dir
  for dir in /usr/lib/postgresql/15/bin /usr/lib/postgresql/*/bin; do
    [ -x "$dir/initdb" ] && { echo "$dir"; return; }
  done
  die "no PostgreSQL server found (initdb): install Debian's postgresql package (make setup-postgres)"
}

# Runs a command as the cluster's owner.
as_owner() {
  if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || die "running as root needs the postgres user (Debian's postgresql package makes it)"
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start() {
  local bin dir port password
  bin=$(bindir)
  dir=$(mktemp -d "${TMPDIR:-/tmp}/paydigital-pg.XXXXXX")
  chmod 755 "$dir"
  [ "$(id -u)" = 0 ] && chown postgres: "$dir"
  port=$(free_port)
  password=$(python3 -c 'import secrets; print(secrets.token_hex(16))')
  printf '%s\n' "$password" >"$dir/pwfile"
  [ "$(id -u)" = 0 ] && chown postgres: "$dir/pwfile"
  as_owner "$bin/initdb" -D "$dir/data" -U postgres --pwfile="$dir/pwfile" \
    --auth-local=trust --auth-host=scram-sha-256 --no-sync -E UTF8 >"$dir/initdb.log" 2>&1 \
    || die "initdb failed: $(tail -5 "$dir/initdb.log")"
  rm -f "$dir/pwfile"
  certificates "$dir"
  printf '%s\n' "$port" >"$dir/port"
  resume_in "$dir"
  echo "export PAYDIGITAL_PG_DIR='$dir'"
  echo "export PAYDIGITAL_TEST_POSTGRES='postgres://postgres:$password@127.0.0.1:$port/postgres'"
  echo "export PAYDIGITAL_TEST_POSTGRES_CA='$dir/ca.crt'"
}
# A CA, and the server's certificate it signs (an end-entity one: rustls will not take a CA
# certificate as a server's), for localhost and 127.0.0.1.
certificates() {
  local dir=$1
  command -v openssl >/dev/null || die "openssl is needed for the test cluster's TLS certificate"
  {
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=paydigital test CA" \
      -keyout "$dir/ca.key" -out "$dir/ca.crt"
    openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" \
      -keyout "$dir/server.key" -out "$dir/server.csr"
    printf 'basicConstraints=CA:FALSE\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n' >"$dir/server.ext"
    openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" \
      -CAcreateserial -days 2 -extfile "$dir/server.ext" -out "$dir/server.crt"
  } >"$dir/openssl.log" 2>&1 || die "openssl failed: $(tail -5 "$dir/openssl.log")"
  chmod 600 "$dir/server.key"
  [ "$(id -u)" = 0 ] && chown postgres: "$dir/server.key" "$dir/server.crt"
  chmod 644 "$dir/ca.crt"
}

resume_in() {
  local dir=$1 bin port
  bin=$(bindir)
  port=$(cat "$dir/port")
  # fsync off: a test cluster need not survive a power cut, and the tests run faster.
  as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 start \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300 -c ssl=on -c ssl_cert_file=$dir/server.crt -c ssl_key_file=$dir/server.key" \
    >/dev/null || die "PostgreSQL did not start: $(tail -5 "$dir/server.log" 2>/dev/null)"
}

cluster_dir() {
  local dir=${1:-${PAYDIGITAL_PG_DIR:-}}
  [ -n "$dir" ] && [ -d "$dir/data" ] || die "no cluster: give its folder or set PAYDIGITAL_PG_DIR"
  echo "$dir"
}

case "${1:-}" in
  start) start ;;
  pause)
    dir=$(cluster_dir "${2:-}")
    as_owner "$(bindir)/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
    ;;
  resume) resume_in "$(cluster_dir "${2:-}")" ;;
  stop)
    dir=$(cluster_dir "${2:-}")
    as_owner "$(bindir)/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    rm -rf "$dir"
    ;;
  *) die "usage: $0 start | pause [DIR] | resume [DIR] | stop [DIR]" ;;
esac
