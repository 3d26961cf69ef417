#!/usr/bin/env bash
# Real TFE client libraries against tfe-admin's sandbox: installs terrasnek 0.1.14 and pytfe
# 1.5.0 from PyPI into a throwaway virtual environment, builds tfe-admin, starts two sandboxes
# (HTTPS with a self-signed certificate made here, and plain HTTP), and runs check.py, which
# prints one line per check. Exits non-zero when any check fails. Needs python3 (with venv),
# openssl, cargo and access to PyPI, so it is not part of .ci/run.
#
#   tests/clients/run.sh            # from anywhere in the repository
#   TFE_ADMIN_BIN=path/to/tfe-admin tests/clients/run.sh   # use that binary, do not build
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

echo "== installing terrasnek 0.1.14 and pytfe 1.5.0 into a throwaway virtual environment"
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet --disable-pip-version-check terrasnek==0.1.14 pytfe==1.5.0

if [ -z "${TFE_ADMIN_BIN:-}" ]; then
  echo "== building tfe-admin"
  (cd "$root" && cargo build --locked --quiet --bin tfe-admin)
  TFE_ADMIN_BIN="$root/target/debug/tfe-admin"
fi

echo "== a self-signed certificate for localhost and 127.0.0.1"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
  -subj /CN=localhost -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
  -addext "basicConstraints=critical,CA:FALSE" \
  -keyout "$work/sandbox.key" -out "$work/sandbox.crt" 2>/dev/null

# Starts a sandbox in the background with these extra arguments (in this shell, so that its
# pid reaches the cleanup).
start_sandbox() {
  local name=$1
  shift
  # No rate limit: this measures what the clients understand, not how fast they go (TFE's
  # default of 30/s would make terrasnek, which does not retry 429, fail at random).
  "$TFE_ADMIN_BIN" sandbox --listen 127.0.0.1:0 --control --rate-limit 0 --token "$token" "$@" \
    >"$work/$name.out" 2>"$work/$name.err" &
  pids+=("$!")
}

# Prints the address of a started sandbox once it listens.
address_of() {
  local name=$1
  for _ in $(seq 1 100); do
    if grep -q '^export TFE_TOKEN=' "$work/$name.out" 2>/dev/null; then
      sed -n 's/^export TFE_ADDRESS=//p' "$work/$name.out"
      return 0
    fi
    sleep 0.1
  done
  echo "the $name sandbox did not start:" >&2
  cat "$work/$name.err" >&2
  return 1
}

token=$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')
start_sandbox https --tls-cert "$work/sandbox.crt" --tls-key "$work/sandbox.key"
start_sandbox http
https_address=$(address_of https)
http_address=$(address_of http)
echo "== checks ($("$TFE_ADMIN_BIN" --version))"

TFE_ADDRESS="$https_address" TFE_TOKEN="$token" TFE_CA_CERT="$work/sandbox.crt" \
  SANDBOX_HTTP_ADDRESS="$http_address" "$work/venv/bin/python" "$here/check.py"
