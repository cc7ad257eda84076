"""A vendor's HIS whose driver API misbehaves on one path, for ``cardsettle certify
--his-command``: the reference HIS behind an ASGI layer that spoils the answers of the paths
containing ``--path`` (after ``--after`` good answers), the way a vendor's shim goes wrong.

    python -m tests.conformance.faulty_his --fault not-json --path /identify --port {port} \\
        --insurer-url {insurer_url} --institution {institution} --catalogue {catalogue} \\
        --institutions {institutions} --db {db} --timeout {timeout}

Faults: ``not-json`` (HTTP 200, a truncated body), ``drop:FIELD`` (the field left out of the
JSON answer), ``ok-text`` (``"ok": "yes"`` instead of true), ``http-500`` (a plain-text 500),
``hang`` (never answers), ``not-supported`` (the driver API's refusal ``not_supported``, as a
HIS without the optional operations answers); ``none``: a HIS that works.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run as a file, from anywhere

from cardsettle.cli.his import build_config
from mock_insurer.server import run
from simulator.his.api import driver_app
from simulator.his.app import ReferenceHis


def spoil(body: bytes, fault: str) -> tuple[int, bytes, bytes]:
    """The status, body and content type the broken shim answers instead of ``body``."""
    if fault == "not-json":
        return 200, body[: max(1, len(body) // 3)], b"application/json"
    if fault == "http-500":
        return 500, b"Internal Server Error", b"text/plain"
    data = json.loads(body)
    if fault == "ok-text":
        data["ok"] = "yes" if data.get("ok") else "no"
    elif fault.startswith("drop:"):
        data.pop(fault.split(":", 1)[1], None)
    return 200, json.dumps(data, ensure_ascii=False).encode(), b"application/json"


def faulty(app: Any, path: str, fault: str, after: int) -> Any:
    seen = {"n": 0}

    async def layer(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or path not in scope["path"] or fault == "none":
            await app(scope, receive, send)
            return
        seen["n"] += 1
        if seen["n"] <= after:
            await app(scope, receive, send)
            return
        if fault == "hang":
            await asyncio.sleep(3600)
        if fault == "not-supported":
            body = json.dumps({"ok": False, "refusal": {
                "code": "not_supported", "message": "此HIS不支持 / not supported by this HIS",
                "source": "his"}}).encode()
            await send({"type": "http.response.start", "status": 200,
                        "headers": [(b"content-type", b"application/json"),
                                    (b"content-length", str(len(body)).encode())]})
            await send({"type": "http.response.body", "body": body})
            return
        answer: dict[str, Any] = {"body": b""}

        async def keep(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.body":
                answer["body"] += message.get("body", b"")

        await app(scope, receive, keep)
        status, body, kind = spoil(answer["body"], fault)
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", kind),
                                (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    return layer


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--fault", required=True)
    parser.add_argument("--path", required=True)
    parser.add_argument("--after", type=int, default=0)
    parser.add_argument("--port", type=int, required=True)
    for name in ("--insurer-url", "--institution", "--catalogue", "--institutions", "--db"):
        parser.add_argument(name, required=True)
    parser.add_argument("--timeout", type=float, default=10.0)
    args = parser.parse_args()
    config = build_config(insurer_url=args.insurer_url, institution=args.institution,
                          catalogue=Path(args.catalogue), institutions=Path(args.institutions),
                          db=args.db, data_dir=Path(args.db).parent, timeout=args.timeout,
                          auth="none")
    his = ReferenceHis(config)
    print(f"faulty HIS ({args.fault} on {args.path}) — driver API on "
          f"http://127.0.0.1:{args.port}/his/v1/", flush=True)
    try:
        run(faulty(driver_app(his), args.path, args.fault, args.after), port=args.port,
            log_level="warning")
    finally:
        his.close()


if __name__ == "__main__":
    main()
