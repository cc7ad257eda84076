"""``cardsettle his ...``: the reference HIS, serving the HIS driver API."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

import click

from cardsettle.cli.errors import OneLineGroup, clean_errors, is_http_url
from cardsettle.cli.servers import open_to_the_network
from mock_insurer.client import ApiKeyAuth, Auth, TifAuth
from mock_insurer.gateway.clock import BusinessClock
from mock_insurer.server import check_listen, run
from mock_insurer.wire.timefmt import china_now
from simulator.catalogue import write_catalogue
from simulator.his.api import driver_app, shown_url
from simulator.his.app import ReferenceHis
from simulator.his.catalogue import ItemTable, institutions_in
from simulator.his.config import HisConfig, admdvs_of
from simulator.his.driver import BASE_PATH
from simulator.his.errors import HisConfigError
from simulator.his.store import db_url_of
from simulator.his.variants import VARIANTS, variant
from simulator.institutions import load_institutions, write_institutions

__all__ = ["build_config", "his"]


@click.group(cls=OneLineGroup)
def his() -> None:
    """The reference HIS (an outpatient charging system that integrates correctly)."""


def _default_data(data_dir: Path, seed: int) -> tuple[Path, Path]:
    """The default institutions and catalogue of ``seed`` — the very files ``cardsettle
    insurer serve`` generates, so that both agree."""
    data_dir.mkdir(parents=True, exist_ok=True)
    institutions = data_dir / f"institutions-{seed}.jsonl"
    catalogue = data_dir / f"catalogue-{seed}.jsonl"
    records = write_institutions(institutions, seed=seed)
    if not catalogue.exists():
        write_catalogue(catalogue, seed=seed, institutions=records)
    return institutions, catalogue


def _auth(mode: str, record: dict[str, Any], paasid: str | None, token: str | None,
          apikey: str | None) -> Auth | None:
    credentials = record.get("credentials") or {}
    if mode == "tif":
        paasid = paasid or credentials.get("paasid")
        token = token or credentials.get("token")
        if not paasid or not token:
            raise HisConfigError("--auth tif needs --paasid and --token (or an --institutions "
                                 "file with the institution's credentials)")
        return TifAuth(paasid, token)
    if mode == "apikey":
        apikey = apikey or credentials.get("apikey")
        if not apikey:
            raise HisConfigError("--auth apikey needs --apikey (or an --institutions file with "
                                 "the institution's credentials)")
        return ApiKeyAuth(apikey)
    return None


def build_config(*, insurer_url: str, institution: str | None, catalogue: Path | None,
                 institutions: Path | None, db: str | None, data_dir: Path, timeout: float,
                 auth: str, paasid: str | None = None, token: str | None = None,
                 apikey: str | None = None, operator: str = "C01", center_only: str = "learn",
                 seed: int = 1, portal_url: str | None = None,
                 portal_token: str | None = None,
                 business_date: date | None = None) -> HisConfig:
    """The HIS's configuration from the command line's options (defaults: the insurer's
    default data of ``seed``, the first institution that has item mappings). ``business_date``:
    the HIS's clock starts on that date (time of day follows the wall clock), as the insurer's
    ``--business-date`` does."""
    for option, url in (("--insurer-url", insurer_url), ("--portal-url", portal_url)):
        if url is not None and not is_http_url(url):
            raise HisConfigError(f"{option} must be http(s)://HOST:PORT, got {url!r}")
    if catalogue is None:
        default_institutions, catalogue = _default_data(data_dir, seed)
        institutions = institutions or default_institutions
    code = institution or next(iter(institutions_in(catalogue)), None)
    if code is None:
        raise HisConfigError(f"--catalogue {catalogue}: no institution has item mappings")
    records = load_institutions(institutions) if institutions is not None else []
    record = next((r for r in records if r.get("fixmedins_code") == code), {})
    items = ItemTable.load(catalogue, code)
    data_dir.mkdir(parents=True, exist_ok=True)
    clock = BusinessClock(china_now)
    if business_date is not None:
        clock.set_business_date(business_date)
    return HisConfig(
        insurer_url=insurer_url.rstrip("/"), fixmedins_code=code,
        fixmedins_name=str(record.get("fixmedins_name") or code),
        mdtrtarea_admvs=str(record.get("admdvs") or admdvs_of(code)),
        db_url=db_url_of(db or data_dir / f"his-{code}.db"), items=items, clock=clock.now,
        timeout=timeout, auth=_auth(auth, record, paasid, token, apikey),
        default_operator=operator, center_only="reverse" if center_only == "reverse" else "learn",
        portal_url=(portal_url or "").rstrip("/"),
        portal_token=portal_token or str((record.get("credentials") or {}).get("portal") or ""))


@his.command()
@click.option("--insurer-url", required=True,
              help="The insurer center, http://HOST:PORT (e.g. cardsettle insurer serve's).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8090, show_default=True, type=click.IntRange(0, 65535))
@click.option("--institution", help="fixmedins_code of the hospital this HIS is. Default: the "
                                    "first institution with item mappings in the catalogue.")
@click.option("--catalogue", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="Catalogue JSONL with the item mappings (cardsettle generate catalogue). "
                   "Default: the insurer's default catalogue of --seed.")
@click.option("--institutions", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="Institutions JSONL (names, districts, gateway credentials).")
@click.option("--db", help="The HIS's database: a file path or sqlite:///PATH. "
                           "Default: DATA_DIR/his-<institution>.db.")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path(".cardsettle"), show_default=True,
              help="Where the default data and database live.")
@click.option("--timeout", default=10.0, show_default=True, type=click.FloatRange(0.05, 600),
              help="Seconds to wait for the insurer before recovering (query or reversal).")
@click.option("--auth", type=click.Choice(["none", "tif", "apikey"]), default="none",
              show_default=True, help="The insurer gateway's authentication.")
@click.option("--paasid", help="TIF paasid (default: from --institutions).")
@click.option("--token", envvar="CARDSETTLE_TIF_TOKEN",
              help="TIF token (default: from --institutions; env CARDSETTLE_TIF_TOKEN, which "
                   "keeps it out of the process list).")
@click.option("--apikey", envvar="CARDSETTLE_APIKEY",
              help="API key (default: from --institutions; env CARDSETTLE_APIKEY).")
@click.option("--operator", default="C01", show_default=True,
              help="Operator (cashier) of driver calls that name none.")
@click.option("--center-only", type=click.Choice(["learn", "reverse"]), default="learn",
              show_default=True, help="Day-end, for a settlement the center has and the HIS "
                                      "lost: learn it (5203) or reverse it (2601).")
@click.option("--seed", default=1, show_default=True, help="Seed of the default data.")
@click.option("--portal-url", help="The insurer's settlement portal, where the HIS declares a "
                                   "month and collects payments: the mock insurer's URL "
                                   "(http://HOST:PORT; its admin API serves it). Default: none "
                                   "(declaring is refused as portal_not_configured).")
@click.option("--portal-token", envvar="CARDSETTLE_PORTAL_TOKEN",
              help="Bearer token of the portal: the institution's portal credential (default: "
                   "credentials.portal from --institutions; the insurer's banner lists them; "
                   "env CARDSETTLE_PORTAL_TOKEN). The insurer's admin token works too but opens "
                   "everything, so do not give it to a HIS under test.")
@click.option("--variant", "variant_name", metavar="NAME",
              help="Serve a DELIBERATELY BROKEN variant of the reference HIS, to prove that "
                   "scenarios and the conformance suite catch its defect (docs/his-variants.md)"
                   f": {', '.join(VARIANTS)}.")
@click.option("--business-date", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="Start the HIS's clock on this date (time of day follows the wall clock): "
                   "the same as the insurer's --business-date, so that fee times, settlements "
                   "and day-end fall on the insurer's business day (docs/review.md).")
@click.option("--log-level", default="warning", show_default=True,
              type=click.Choice(["critical", "error", "warning", "info", "debug"]))
@clean_errors
def serve(insurer_url: str, host: str, port: int, institution: str | None,
          catalogue: Path | None, institutions: Path | None, db: str | None, data_dir: Path,
          timeout: float, auth: str, paasid: str | None, token: str | None,
          apikey: str | None, operator: str, center_only: str, seed: int,
          portal_url: str | None, portal_token: str | None, variant_name: str | None,
          business_date: datetime | None, log_level: str) -> None:
    """Serve the reference HIS's driver API (/his/v1/) until interrupted."""
    check_listen(host, port)  # a port in use: one line, before anything is opened
    broken = variant(variant_name) if variant_name is not None else None
    config = build_config(insurer_url=insurer_url, institution=institution,
                          catalogue=catalogue, institutions=institutions, db=db,
                          data_dir=data_dir, timeout=timeout, auth=auth, paasid=paasid,
                          token=token, apikey=apikey, operator=operator,
                          center_only=center_only, seed=seed, portal_url=portal_url,
                          portal_token=portal_token,
                          business_date=business_date.date() if business_date else None)
    served = (broken.his_class if broken is not None else ReferenceHis)(config)
    if broken is not None:
        click.secho(f"WARNING: this HIS is DELIBERATELY BROKEN (variant {broken.name}: "
                    f"{broken.title}) — never use it for a real certification", fg="red",
                    bold=True, err=True)
    label = "reference HIS" if broken is None else f"HIS variant {broken.name} (broken)"
    click.echo(f"cardsettle {label} — driver API on http://{host}:{port}{BASE_PATH}/")
    click.echo(f"  institution {config.fixmedins_code} {config.fixmedins_name} "
               f"({len(config.items.items)} items)")
    click.echo(f"  insurer     {shown_url(config.insurer_url)} (auth {auth}, timeout {timeout:g} s)")
    click.echo(f"  database    {config.db_url}")
    click.echo(f"  clock       {config.clock().strftime('%Y-%m-%d %H:%M:%S')}"
               + ("" if business_date is None else " (--business-date)"))
    click.echo(f"  portal      "
               f"{shown_url(config.portal_url) if config.portal_url else 'none (declaring is refused)'}"
               + (f" as {config.fixmedins_code}" if config.portal_url and config.portal_token
                  else ""))
    if open_to_the_network(host):
        click.secho(f"WARNING: listening on {host}: the driver API has no authentication, so "
                    "anyone who can reach this machine can read patients' identities and "
                    "settle at this HIS; use --host 127.0.0.1 unless the network is yours",
                    fg="yellow", err=True)
    try:
        run(driver_app(served, hosts=(host,)), host=host, port=port, log_level=log_level)
    finally:
        served.close()
