"""A throw-away PostgreSQL server for the tests that need one.

Nothing is skipped: when the server binaries are missing the fixture installs Debian's
``postgresql`` package (CI runs as root), and when it cannot, the test errors with the reason.
``CARDSETTLE_TEST_PG_URL`` points the tests at an existing server instead.

The server runs as the ``postgres`` system user (PostgreSQL refuses to run as root), on
127.0.0.1 and a free port, with its data in a temporary directory removed at the end.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg

__all__ = ["TempPostgres", "find_bin_dir"]


def find_bin_dir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


def _install() -> Path:
    if os.geteuid() != 0:
        raise RuntimeError("PostgreSQL server binaries are missing and the tests are not root: "
                           "install them (apt-get install -y postgresql) or set "
                           "CARDSETTLE_TEST_PG_URL")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update"], check=True, env=env, capture_output=True)
    subprocess.run(["apt-get", "install", "-y", "postgresql"], check=True, env=env,
                   capture_output=True)
    bin_dir = find_bin_dir()
    if bin_dir is None:
        raise RuntimeError("apt-get installed postgresql but no initdb was found")
    return bin_dir


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class TempPostgres:
    """Start with :meth:`start`, make databases with :meth:`new_database`, :meth:`stop`."""

    def __init__(self) -> None:
        self.base_url = os.environ.get("CARDSETTLE_TEST_PG_URL", "")
        self._dir: Path | None = None
        self._bin: Path | None = None
        self._counter = 0

    def start(self) -> None:
        if self.base_url:
            return
        self._bin = find_bin_dir() or _install()
        self._dir = Path(tempfile.mkdtemp(prefix="cardsettle-pg-"))
        data, sockets = self._dir / "data", self._dir / "sock"
        data.mkdir()
        sockets.mkdir()
        as_postgres = os.geteuid() == 0
        if as_postgres:
            shutil.chown(self._dir, "postgres")
            shutil.chown(data, "postgres")
            shutil.chown(sockets, "postgres")
        port = _free_port()
        self._run([str(self._bin / "initdb"), "-D", str(data), "-U", "postgres",
                   "--auth=trust", "-E", "UTF8", "--no-locale"], as_postgres)
        self._run([str(self._bin / "pg_ctl"), "-D", str(data), "-w", "-t", "60", "-l",
                   str(self._dir / "log"), "-o",
                   f"-p {port} -h 127.0.0.1 -k {sockets} -c max_connections=200 -c fsync=on",
                   "start"], as_postgres)
        self.base_url = f"postgresql://postgres@127.0.0.1:{port}"
        self._as_postgres = as_postgres
        for _ in range(50):
            try:
                with psycopg.connect(self.base_url + "/postgres", connect_timeout=2):
                    return
            except psycopg.OperationalError:
                time.sleep(0.1)

    def _run(self, command: list[str], as_postgres: bool) -> None:
        if as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, cwd="/")
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed: {result.stdout}{result.stderr}")

    def new_database(self) -> str:
        """A fresh empty database; returns its SQLAlchemy-style URL."""
        self._counter += 1
        name = f"cs_{os.getpid()}_{self._counter}"
        with psycopg.connect(self.base_url + "/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
        return f"{self.base_url}/{name}"

    def stop(self) -> None:
        if self._dir is None or self._bin is None:
            return
        self._run([str(self._bin / "pg_ctl"), "-D", str(self._dir / "data"), "-m", "fast",
                   "-w", "stop"], self._as_postgres)
        shutil.rmtree(self._dir, ignore_errors=True)
        self._dir = None
