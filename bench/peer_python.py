"""bench/peer_python.py: the Python peer, http.client on one keep-alive
connection: sequential GETs, each body decoded with json and one field
read.

    python3 bench/peer_python.py URL [COUNT]

URL is the server's base (BENCH_URL), COUNT the number of requests
(BENCH_COUNT, default 20000). Prints wall= and cpu= (process CPU time)
of the timed loop.
"""

import http.client
import json
import os
import re
import sys
import time

TOKEN = "68d27ac06e53fef962c49a4b0d18691019c3a31a"
WARMUP = 200
HEADERS = {"Kiamo-Api-Token": TOKEN, "Accept": "application/json"}


def main():
    url = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("BENCH_URL")
    if not url:
        sys.exit("peer_python.py: give a URL (argument 1 or BENCH_URL)")
    count = int(sys.argv[2] if len(sys.argv) > 2
                else os.environ.get("BENCH_COUNT", "20000"))
    host, port = re.match(r"^http://([^:/]+):(\d+)", url).groups()
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    field, bad = 0, 0
    wall = cpu = 0.0
    for i in range(-WARMUP, count):
        if i == 0:
            wall, cpu = time.perf_counter(), time.process_time()
        conn.request("GET", "/api/v3/agents/30", headers=HEADERS)
        response = conn.getresponse()
        body = response.read()
        field = json.loads(body)["id"] if response.status == 200 else None
        if field != 30:
            bad += 1
    wall = time.perf_counter() - wall
    cpu = time.process_time() - cpu
    conn.close()
    print("wall=%.6f cpu=%.6f n=%d field=%s bad=%d"
          % (wall, cpu, count, field, bad))
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
