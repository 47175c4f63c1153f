#!/bin/sh
# bench/peer_curl.sh: the curl peer, `curl --parallel --parallel-max N`
# over a list of COUNT URLs (a config file written to a temporary
# directory); bodies go to /dev/null: curl reads them but decodes no JSON.
#
#   sh bench/peer_curl.sh URL [COUNT [PARALLEL]]
#
# URL is the server's base (BENCH_URL), COUNT (BENCH_COUNT, default
# 20000), PARALLEL (BENCH_PARALLEL, default 32). Prints wall= and cpu=
# (user + system of the whole curl process, from /usr/bin/time).
set -eu
url=${1:-${BENCH_URL:-}}
count=${2:-${BENCH_COUNT:-20000}}
parallel=${3:-${BENCH_PARALLEL:-32}}
if [ -z "$url" ]; then
  echo "peer_curl.sh: give a URL (argument 1 or BENCH_URL)" >&2
  exit 2
fi
url=$(printf '%s' "$url" | sed 's#/api/v3/.*$##')/api/v3/agents/30
dir=$(mktemp -d /tmp/kiamo-bench-curl.XXXXXX)
trap 'rm -rf "$dir"' EXIT
awk -v n="$count" -v u="$url" \
  'BEGIN { for (i = 0; i < n; i++) printf "url = \"%s\"\n", u }' \
  >"$dir/urls"
/usr/bin/time -f '%e %U %S' -o "$dir/time" \
  curl --silent --no-progress-meter --fail --parallel --parallel-max "$parallel" \
  -H 'Kiamo-Api-Token: 68d27ac06e53fef962c49a4b0d18691019c3a31a' \
  -H 'Accept: application/json' -K "$dir/urls" >"$dir/out" 2>"$dir/err"
done=$(grep -o '"id": 30, "first' "$dir/out" | wc -l)
read -r wall user sys <"$dir/time"
awk -v w="$wall" -v u="$user" -v s="$sys" -v n="$count" -v d="$done" \
  -v p="$parallel" 'BEGIN { printf "wall=%.6f cpu=%.6f n=%d field=%s " \
  "parallel=%d bad=%d\n", w, u + s, n, d == n ? 30 : 0, p, n - d }'
