#!/usr/bin/env bash
# Install everything and run the whole test suite: lint, types, then pytest against a real redis-server
# started here on a free loopback port (installed with apt-get when missing) and stopped afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh requirements-dev.txt

# Debian packages the tests drive for real: redis-server (storage), chromium (staff console, end to end),
# gdal-bin (GDAL's OGC API client reads /collections). Installed when missing, as root with apt-get.
missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v ogr2ogr >/dev/null 2>&1 || missing+=(gdal-bin)
if [ ${#missing[@]} -gt 0 ]; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "test: installing Debian packages: ${missing[*]}" >&2
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "test: missing Debian packages: ${missing[*]} (install them: apt-get install ${missing[*]})" >&2
    exit 2
  fi
fi

workdir=$(mktemp -d)
port=$(.venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no --dir "$workdir" \
  --daemonize yes --pidfile "$workdir/redis.pid" --logfile "$workdir/redis.log"
types_pid=""
cleanup() {
  if [ -n "$types_pid" ]; then kill "$types_pid" 2>/dev/null || true; fi
  if [ -f "$workdir/redis.pid" ]; then
    redis_pid=$(cat "$workdir/redis.pid")
    kill "$redis_pid" 2>/dev/null || true
    # Redis logs its shutdown into the work dir after the signal: removing the dir meanwhile fails ("Directory
    # not empty") and failed a green run once. Wait for it to exit (5 s at most) before removing the dir.
    for _ in $(seq 50); do kill -0 "$redis_pid" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -rf "$workdir"
}
trap cleanup EXIT
for _ in $(seq 50); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done

.venv/bin/ruff check yurt tests bench tools wsgi.py gunicorn.conf.py
.venv/bin/lint-imports  # dependency rules: pyproject.toml [tool.importlinter]
# mypy --strict runs beside pytest (about 20 s from a clean checkout, on one core while the tests mostly wait on
# their subprocesses); its report is printed after pytest's, and either failing fails the command.
.venv/bin/mypy >"$workdir/mypy.log" 2>&1 &
types_pid=$!
tests_status=0
TEST_REDIS_URL="redis://127.0.0.1:$port/0" .venv/bin/python -m pytest "$@" || tests_status=$?
types_status=0
wait "$types_pid" || types_status=$?
types_pid=""
cat "$workdir/mypy.log"
if [ "$types_status" -ne 0 ]; then echo "test: mypy failed" >&2; fi
if [ "$tests_status" -ne 0 ]; then exit "$tests_status"; fi
exit "$types_status"
