"""`make run`: the whole dashboard on this machine, with a real (dev) Vault server.

1. migrates the database (SQLite unless DATABASE_URL says otherwise);
2. starts an OpenBao dev server on 127.0.0.1 with a random root token (given to it in
   its environment, so `ps` does not show it) and writes the OpenWeather key into it,
   with a read-only policy and a periodic token holding only that policy for the
   app, which renews it while it runs; the app reads it from VAULT_TOKEN_FILE, as
   from a Vault Agent sink;
3. with OPENWEATHER_API_KEY set, that key and the real API; without it, the bundled
   fake OpenWeather server and a banner on the page saying the data is demo data;
4. serves the dashboard with Django's development server on http://127.0.0.1:8000.

Ctrl-C stops everything it started. The app process never sees the OpenWeather key
or the Vault root token in its environment: it reads the key from Vault like
production does.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fakes.openweather import FakeOpenWeather  # noqa: E402
from tests.support.network import free_port  # noqa: E402
from tests.support.openbao import OpenBaoServer, seed_weather_key  # noqa: E402


def port_is_free(port: int) -> bool:
    import socket

    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def main() -> int:
    host = os.environ.get("HOST", "127.0.0.1")
    port = int(os.environ.get("PORT", "8000"))
    real_key = os.environ.pop("OPENWEATHER_API_KEY", "").strip()

    app_env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("VAULT_") and key != "OPENWEATHER_API_KEY"
    }
    app_env.setdefault("DJANGO_DEBUG", "1")
    app_env.setdefault("PYTHONUNBUFFERED", "1")
    # On your own machine you are every visitor: your share is the site's whole budget.
    app_env.setdefault("WEATHER_CLIENT_BUDGET_PER_MINUTE", "60")
    app_env.setdefault("WEATHER_CLIENT_BUDGET_PER_DAY", "1000")

    print("Applying migrations…", flush=True)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"],
        cwd=ROOT,
        env=app_env,
        check=True,
    )

    vault_port = int(os.environ.get("VAULT_DEV_PORT", "8200"))
    if not port_is_free(vault_port):
        vault_port = free_port()
    vault = OpenBaoServer(port=vault_port).start()
    fake: FakeOpenWeather | None = None
    server: subprocess.Popen[bytes] | None = None
    token_dir: tempfile.TemporaryDirectory[str] | None = None
    try:
        if real_key:
            api_key = real_key
            upstream = app_env.get("OPENWEATHER_BASE_URL", "https://api.openweathermap.org")
        else:
            api_key = "demo-" + secrets.token_hex(12)
            fake = FakeOpenWeather(api_key=api_key, port=0).start()
            upstream = fake.base_url
            app_env["WEATHER_DEMO_MODE"] = "1"
        # Periodic: each renewal gives it 20 minutes again, so it lives as long as the
        # app keeps renewing it (every ~13 minutes) and dies soon after the app stops.
        app_token = seed_weather_key(vault, api_key=api_key, period="20m")
        del api_key
        token_dir = tempfile.TemporaryDirectory(prefix="weather-vault-")
        token_file = Path(token_dir.name) / "token"
        token_file.touch(mode=0o600)
        token_file.write_text(app_token + "\n")
        app_env.update(
            VAULT_ADDR=vault.addr,
            VAULT_TOKEN_FILE=str(token_file),
            OPENWEATHER_BASE_URL=upstream,
        )

        print(f"Vault (OpenBao dev server): {vault.addr}  key at secret/weather", flush=True)
        if fake is not None:
            print(f"Upstream: bundled fake OpenWeather at {upstream} (demo data)", flush=True)
        else:
            print(f"Upstream: {upstream} with the key from OPENWEATHER_API_KEY", flush=True)
        print(f"Dashboard: http://{host}:{port}/   Admin: http://{host}:{port}/admin/", flush=True)
        print("Ctrl-C stops everything.", flush=True)

        server = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", f"{host}:{port}"], cwd=ROOT, env=app_env
        )
        return server.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        if server is not None and server.poll() is None:
            server.send_signal(signal.SIGINT)
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
        if fake is not None:
            fake.stop()
        vault.close()
        if token_dir is not None:
            token_dir.cleanup()
        print("Stopped the dashboard, Vault and the fake upstream.", flush=True)


if __name__ == "__main__":
    sys.exit(main())
