"""`make bench-slow-clients`: /healthz while slow clients hold connections open, gunicorn
alone against gunicorn behind the compose stack's nginx (docker/nginx/weather.conf).

Both measured in one run, on this machine, with the image's gunicorn settings
(2 workers x 4 threads, gthread). Each slow client sends a request line, then one
header line every 2 s, never finishing (slowloris). For each count of slow clients,
/healthz is asked 20 times, a quarter-second apart, each given 5 s.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.appserver import AppServer, base_env, fresh_database  # noqa: E402
from tests.support.nginx import StackProxy  # noqa: E402
from tests.support.slow_clients import probe, slow_header_clients  # noqa: E402


def measure(port: int, base_url: str, slow: int, times: int) -> str:
    with slow_header_clients(port, slow):
        time.sleep(1)
        outcomes = probe(base_url, times=times, timeout=5)
    answered = [seconds * 1000 for status, seconds in outcomes if status == 200]
    failed = len(outcomes) - len(answered)
    if not answered:
        return f"none of {times} answered"
    return (
        f"{len(answered)}/{times} ok, median {statistics.median(answered):.1f} ms, "
        f"max {max(answered):.1f} ms" + (f", {failed} timed out" if failed else "")
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slow", type=int, nargs="+", default=[0, 8, 50])
    parser.add_argument("--probes", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir, fresh_database(Path(workdir)) as url:
        env = base_env(DATABASE_URL=url)
        with (
            AppServer(env=env, workers=2, threads=4) as gunicorn,
            StackProxy(f"127.0.0.1:{gunicorn.port}") as proxy,
        ):
            print("| slow clients | gunicorn alone | behind nginx |")
            print("|---:|---|---|")
            for slow in args.slow:
                alone = measure(gunicorn.port, gunicorn.base_url, slow, args.probes)
                proxied = measure(proxy.port, proxy.base_url, slow, args.probes)
                print(f"| {slow} | {alone} | {proxied} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
