#!/usr/bin/env bash
# Run every benchmark, each next to its baseline in the same run (vanilla luigi, raw pyarrow,
# plain s3fs, plain pymysql), and keep what they print in benchmarks/results-DATE.txt.
# Installs what the test suite installs (emulators, MariaDB); takes about 40 minutes on a
# 2-core machine, most of it vanilla luigi building 10,000 tasks. Extra arguments go to
# bench_build.py, e.g. `bash scripts/bench.sh --sizes 1000,5000 --vanilla-up-to 5000`.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}

"$PYTHON" -m pip install --quiet --disable-pip-version-check --root-user-action=ignore -e '.[test]'
if ! command -v mariadbd >/dev/null && [ ! -x /usr/sbin/mariadbd ]; then
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
    mariadb-server-core mariadb-client-core >/dev/null
fi
export GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT=false

results="benchmarks/results-$(date +%Y-%m-%d).txt"
{
  for bench in "bench_build.py $*" bench_memory.py bench_status.py bench_writes.py \
               bench_parquet.py bench_mysql.py bench_scheduler.py bench_central.py bench_remote.py \
               bench_assistants.py bench_dashboard.py bench_watch.py; do
    echo "## python benchmarks/$bench"
    # shellcheck disable=SC2086  # the arguments are meant to split
    "$PYTHON" benchmarks/$bench
    echo
  done
} 2>&1 | tee "$results"
echo "results: $results"
