"""The read-only half of the admin API: what the insurer holds and what it received.

Institutions, persons (with cards, account, year-to-date counters and visits), the catalogue,
the message log and what it came to (``/counters``: settled, refused, failed, ...), visits and
settlements. Lists page with ``limit`` (1-1000, default 100) and
``offset`` and answer ``{"items": [...], "total": n, "limit": l, "offset": o}``; the message
log pages by id — forwards with ``after_id`` (answering ``next_after_id`` to continue from)
or backwards with ``before_id`` (``next_before_id``) — and filters by ``result``.
"""

from __future__ import annotations

from typing import Any

from mock_insurer.admin.errors import BadRequest, NotFound
from mock_insurer.admin.params import MAX_TEXT, path_text
from mock_insurer.admin.views import (
    catalogue_item_view,
    fee_detail_view,
    institution_view,
    mapping_view,
    message_view,
    person_view,
    settlement_view,
    visit_view,
)
from mock_insurer.admin.web import AdminCall, Op
from mock_insurer.ledger import Ledger, queries
from mock_insurer.ledger.queries import MESSAGE_RESULTS, Page

__all__ = ["MESSAGE_STATUSES", "VISIT_STATUSES", "Inspector", "inspect_ops"]

MESSAGE_STATUSES = ("processing", "answered", "replayed", "reversed", "tombstone", "faulted")
"""Values of a recorded message's ``status`` (see ``mock_insurer/ledger/schema.py``)."""
VISIT_STATUSES = ("open", "cancelled")
PERSON_DETAIL_ROWS = 100
"""How many latest account and counter movements a person's detail shows."""


def _page(page: Page, call: AdminCall, view: Any) -> dict[str, Any]:
    return {"items": [view(row) for row in page.rows], "total": page.total,
            "limit": call.query.limit(), "offset": call.query.offset()}


class Inspector:
    """The read-only endpoints over one ledger."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self.message_totals = queries.RunningCounters(incremental=ledger.dialect == "sqlite")

    # -- institutions ----------------------------------------------------------------------
    def institutions(self, call: AdminCall) -> dict[str, Any]:
        with self.ledger.read() as tx:
            rows = queries.institutions(tx)
        return {"items": [institution_view(row) for row in rows], "total": len(rows)}

    def institution(self, call: AdminCall) -> dict[str, Any]:
        code = path_text(call.path, "code")
        with self.ledger.read() as tx:
            row = queries.institution(tx, code)
        if row is None:
            raise NotFound(f"no institution {code!r}", where="path.code")
        return institution_view(row)

    # -- persons -------------------------------------------------------------------------------
    def persons(self, call: AdminCall) -> dict[str, Any]:
        q, limit, offset = call.query.text("q"), call.query.limit(), call.query.offset()
        with self.ledger.read() as tx:
            page = queries.persons(tx, q=q, limit=limit, offset=offset)
        return _page(page, call, person_view)

    def person(self, call: AdminCall) -> dict[str, Any]:
        psn_no = path_text(call.path, "psn_no")
        with self.ledger.read() as tx:
            row = queries.person(tx, psn_no)
            if row is None:
                raise NotFound(f"no person {psn_no!r}", where="path.psn_no")
            view = person_view(row)
            view["cards"] = [{"card_no": c["card_no"], "card_sn": c["card_sn"],
                              "status": c["status"]} for c in tx.cards_of(psn_no)]
            view["ec_tokens"] = queries.ec_tokens_of(tx, psn_no)
            view["cum"] = [_cum_view(r) for r in tx.all_cum(psn_no)]
            view["account_entries"] = [
                {"id": e["id"], "setl_id": e["setl_id"], "amount": e["amount"],
                 "balc_after": e["balc_after"], "biz_time": e["biz_time"]}
                for e in queries.account_entries(tx, psn_no, limit=PERSON_DETAIL_ROWS)]
            visits = queries.visits(tx, psn_no=psn_no, limit=PERSON_DETAIL_ROWS)
            view["visits"] = [visit_view(v) for v in visits.rows]
            view["visits_total"] = visits.total
        return view

    def counters(self, call: AdminCall) -> dict[str, Any]:
        psn_no = path_text(call.path, "psn_no")
        with self.ledger.read() as tx:
            row = queries.person(tx, psn_no)
            if row is None:
                raise NotFound(f"no person {psn_no!r}", where="path.psn_no")
            cum = [_cum_view(r) for r in tx.all_cum(psn_no)]
            entries = [{"id": e["id"], "year": e["year"], "insutype": e["insutype"],
                        "name": e["name"], "delta": e["delta"], "setl_id": e["setl_id"]}
                       for e in queries.cum_entries(tx, psn_no, limit=PERSON_DETAIL_ROWS)]
        return {"psn_no": psn_no, "balc": row["balc"], "cum": cum, "cum_entries": entries}

    # -- catalogue ---------------------------------------------------------------------------
    def catalogue(self, call: AdminCall) -> dict[str, Any]:
        q, limit, offset = call.query.text("q"), call.query.limit(), call.query.offset()
        with self.ledger.read() as tx:
            page = queries.catalogue_items(tx, q=q, limit=limit, offset=offset)
        return _page(page, call, catalogue_item_view)

    def catalogue_item(self, call: AdminCall) -> dict[str, Any]:
        code = path_text(call.path, "med_list_codg")
        with self.ledger.read() as tx:
            row = queries.catalogue_item(tx, code)
            if row is None:
                raise NotFound(f"no catalogue item {code!r}", where="path.med_list_codg")
            view = catalogue_item_view(row)
            view["mappings"] = [mapping_view(m) for m in queries.mappings_of_item(tx, code)]
        return view

    # -- messages ----------------------------------------------------------------------------
    def messages(self, call: AdminCall) -> dict[str, Any]:
        """The log forwards from ``after_id`` (oldest first), or backwards from ``before_id``
        (newest first); the two do not go together."""
        q = call.query
        if "after_id" in q.values and "before_id" in q.values:
            raise BadRequest("give after_id (forwards, oldest first) or before_id (backwards, "
                             "newest first), not both", where="before_id")
        after_id, limit = q.integer("after_id", 0), q.limit()
        before_id = q.integer("before_id", 0, minimum=1) if "before_id" in q.values else None
        filters = {"fixmedins_code": q.text("fixmedins_code"), "infno": q.text("infno"),
                   "msgid": q.text("msgid"), "status": q.choice("status", MESSAGE_STATUSES),
                   "rejection_code": q.text("rejection_code"), "psn_no": q.text("psn_no")}
        results = q.choices("result", MESSAGE_RESULTS)
        with self.ledger.read() as tx:
            rows = queries.messages(tx, after_id=after_id, before_id=before_id, limit=limit,
                                    results=results, **filters)
        items = [message_view(row) for row in rows]
        if before_id is not None:
            return {"items": items, "limit": limit, "before_id": before_id,
                    "next_before_id": items[-1]["id"] if items else before_id}
        next_after = items[-1]["id"] if items else after_id
        return {"items": items, "limit": limit, "after_id": after_id,
                "next_after_id": next_after}

    def message_counters(self, call: AdminCall) -> dict[str, Any]:
        """What the messages after ``after_id`` came to (settled, refused, failed, ...;
        :func:`mock_insurer.ledger.queries.message_counters`)."""
        after_id = call.query.integer("after_id", 0)
        with self.ledger.read() as tx:
            counts = self.message_totals.count(tx, after_id)
        return {**counts, "after_id": after_id}

    def message(self, call: AdminCall) -> dict[str, Any]:
        raw = path_text(call.path, "id")
        if not (raw.isascii() and raw.isdigit()) or len(raw) > 18:
            raise BadRequest(f"a message id is a whole number (got {raw[:MAX_TEXT]!r})",
                             where="path.id")
        with self.ledger.read() as tx:
            row = queries.message(tx, int(raw))
        if row is None:
            raise NotFound(f"no message {raw}", where="path.id")
        return message_view(row)

    # -- visits and settlements -----------------------------------------------------------------
    def visits(self, call: AdminCall) -> dict[str, Any]:
        q = call.query
        filters = {"fixmedins_code": q.text("fixmedins_code"), "psn_no": q.text("psn_no"),
                   "status": q.choice("status", VISIT_STATUSES)}
        limit, offset = q.limit(), q.offset()
        with self.ledger.read() as tx:
            page = queries.visits(tx, limit=limit, offset=offset, **filters)
        return _page(page, call, visit_view)

    def visit(self, call: AdminCall) -> dict[str, Any]:
        mdtrt_id = path_text(call.path, "mdtrt_id")
        with self.ledger.read() as tx:
            row = queries.visit(tx, mdtrt_id)
            if row is None:
                raise NotFound(f"no visit {mdtrt_id!r}", where="path.mdtrt_id")
            view = visit_view(row)
            view["fee_details"] = [fee_detail_view(r) for r in queries.fee_details_of(tx, mdtrt_id)]
            view["settlements"] = [settlement_view(r)
                                   for r in queries.settlements_of_visit(tx, mdtrt_id)]
        return view

    def settlements(self, call: AdminCall) -> dict[str, Any]:
        q = call.query
        begin, end = q.day("biz_date_from"), q.day("biz_date_to")
        if begin is not None and end is not None and begin > end:
            raise BadRequest(f"biz_date_from {begin} is after biz_date_to {end}",
                             where="biz_date_from")
        filters = {"fixmedins_code": q.text("fixmedins_code"), "psn_no": q.text("psn_no"),
                   "mdtrt_id": q.text("mdtrt_id")}
        limit, offset = q.limit(), q.offset()
        newest = q.choice("order", ("oldest", "newest")) == "newest"
        with self.ledger.read() as tx:
            page = queries.settlements(tx, biz_date_from=begin, biz_date_to=end, limit=limit,
                                       offset=offset, newest=newest, **filters)
        return _page(page, call, settlement_view)

    def settlement(self, call: AdminCall) -> dict[str, Any]:
        setl_id = path_text(call.path, "setl_id")
        with self.ledger.read() as tx:
            row = queries.settlement(tx, setl_id)
        if row is None:
            raise NotFound(f"no settlement {setl_id!r}", where="path.setl_id")
        return settlement_view(row)


def _cum_view(row: Any) -> dict[str, Any]:
    return {"year": row["year"], "insutype": row["insutype"], "name": row["name"],
            "value": row["value"]}


def inspect_ops(ledger: Ledger) -> list[Op]:
    """The read-only operations, relative to the ``/admin`` mount."""
    i = Inspector(ledger)
    page = ("limit", "offset")
    table: list[tuple[str, Any, tuple[str, ...]]] = [
        ("/institutions", i.institutions, ()), ("/institutions/{code}", i.institution, ()),
        ("/persons", i.persons, (*page, "q")), ("/persons/{psn_no}", i.person, ()),
        ("/persons/{psn_no}/counters", i.counters, ()),
        ("/catalogue", i.catalogue, (*page, "q")),
        ("/catalogue/{med_list_codg}", i.catalogue_item, ()),
        ("/messages", i.messages, ("after_id", "before_id", "limit", "fixmedins_code", "infno",
                                   "msgid", "status", "rejection_code", "psn_no", "result")),
        ("/messages/{id}", i.message, ()),
        ("/counters", i.message_counters, ("after_id",)),
        ("/visits", i.visits, (*page, "fixmedins_code", "psn_no", "status")),
        ("/visits/{mdtrt_id}", i.visit, ()),
        ("/settlements", i.settlements, (*page, "order", "fixmedins_code", "psn_no",
                                         "mdtrt_id", "biz_date_from", "biz_date_to")),
        ("/settlements/{setl_id}", i.settlement, ()),
    ]
    return [Op("GET", path, work, params) for path, work, params in table]
