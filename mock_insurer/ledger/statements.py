"""The ledger's statements, written once with SQLAlchemy Core and run on the driver connection.

Each statement is built once (module level, or on first use for an insert or keyed update of a
given set of columns), compiled once per dialect into the driver's SQL text, and executed on
the DBAPI connection of the current SQLAlchemy transaction: no statement construction, cache key
or result-proxy work per call (that was most of the CPU of a message). Types are applied here,
from the table definitions: money columns (:class:`~mock_insurer.ledger.types.Cents`) go in as
integer cents and come out as Decimal yuan with two places, booleans come out as ``bool`` on
both databases. Results are plain tuples in the order of the selected columns. PostgreSQL text
cannot hold the character NUL (U+0000): there it is bound as U+FFFD (a look-up for such a
value finds nothing, as it must; a record keeps the rest of the text).

See docs/adr/0009-insurer-throughput.md.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, cast

from sqlalchemy import Boolean, String, Table, and_, bindparam, func, insert, select, update
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import ClauseElement, ColumnElement
from sqlalchemy.sql.compiler import SQLCompiler

from mock_insurer.ledger import schema as s
from mock_insurer.ledger.types import Cents

__all__ = ["DriverStatement", "Statements", "cents", "yuan"]

_CENTS_EXP = Decimal(1)


def cents(value: Decimal) -> int:
    """Decimal yuan -> integer cents, rounded half-up to the cent (as :class:`Cents`)."""
    return int(value.scaleb(2).quantize(_CENTS_EXP, rounding=ROUND_HALF_UP))


def yuan(value: int) -> Decimal:
    """Integer cents -> Decimal yuan with exactly two places."""
    return Decimal(value).scaleb(-2)


def _bool(value: Any) -> bool:
    return bool(value)


def _result_converter(column: ColumnElement[Any]) -> Callable[[Any], Any] | None:
    kind = column.type
    if isinstance(kind, Cents):
        return yuan
    if isinstance(kind, Boolean):
        return _bool
    return None


class DriverStatement:
    """One statement as the driver runs it: SQL text, how to lay out the parameters, and how
    to convert the bound values and the result columns."""

    __slots__ = ("defaults", "money", "names", "outputs", "plan", "scrub_nul", "sql")

    def __init__(self, clause: ClauseElement, dialect: Dialect, *,
                 column_keys: Sequence[str] | None = None,
                 table: Table | None = None) -> None:
        """``column_keys`` and ``table``: the columns an insert sets (the table's scalar
        defaults fill the others)."""
        compiled = cast(SQLCompiler, clause.compile(dialect=dialect,
                                                    column_keys=list(column_keys or ())))
        self.sql = str(compiled)
        # qmark (SQLite): parameters by position; pyformat (psycopg): by name
        self.names: tuple[str, ...] | None = (tuple(compiled.positiontup or ())
                                              if dialect.positional else None)
        self.defaults: dict[str, Any] = {}
        if table is not None:  # scalar column defaults of an insert
            keys = set(column_keys or ())
            self.defaults = {c.name: getattr(c.default, "arg", None) for c in table.columns
                             if c.name not in keys and c.default is not None
                             and getattr(c.default, "is_scalar", False)}
        for bind, name in compiled.bind_names.items():  # literals inside the statement
            if not bind.required and bind.callable is None and bind.value is not None:
                self.defaults.setdefault(name, bind.value)
        self.money = tuple(name for bind, name in compiled.bind_names.items()
                           if isinstance(bind.type, Cents))
        self.scrub_nul = dialect.name == "postgresql"
        outputs: list[tuple[int, Callable[[Any], Any]]] = []
        for index, column in enumerate(getattr(clause, "selected_columns", ())):
            converter = _result_converter(column)
            if converter is not None:
                outputs.append((index, converter))
        self.outputs = tuple(outputs)
        # SQLite: each position's (name, default, is money), or None when nothing is converted
        self.plan: tuple[tuple[str, Any, bool], ...] | None = None
        if self.names is not None and (self.defaults or self.money):
            self.plan = tuple((name, self.defaults.get(name), name in self.money)
                              for name in self.names)

    def params(self, values: Mapping[str, Any]) -> Any:
        """The driver's parameters for ``values`` (money converted to cents)."""
        names = self.names
        if names is not None:  # SQLite: a list in the order of the placeholders
            plan = self.plan
            if plan is None:
                return [values[name] for name in names]
            out = []
            for name, default, money in plan:
                value = values.get(name, default)
                if money and value is not None:
                    value = cents(value)
                out.append(value)
            return out
        if self.defaults:
            values = {**self.defaults, **values}
        if self.money or self.scrub_nul:
            values = dict(values)
            for key in self.money:
                value = values.get(key)
                if value is not None:
                    values[key] = cents(value)
            if self.scrub_nul:
                for key, value in values.items():
                    if value.__class__ is str and "\x00" in value:
                        values[key] = value.replace("\x00", "\ufffd")
        return values

    def row(self, row: Sequence[Any]) -> tuple[Any, ...]:
        """A result row with its columns converted."""
        if not self.outputs:
            return tuple(row)
        out = list(row)
        for index, converter in self.outputs:
            value = out[index]
            if value is not None:
                out[index] = converter(value)
        return tuple(out)


def _eq(column: ColumnElement[Any]) -> ColumnElement[bool]:
    return column == bindparam(column.key)


_p, _a, _cum, _v, _f, _st, _m, _si = (s.persons.c, s.accounts.c, s.cum.c, s.visits.c,
                                      s.fee_details.c, s.settlements.c, s.messages.c,
                                      s.signins.c)

PERSON_COLUMNS = (_p.psn_no, _p.psn_cert_type, _p.certno, _p.psn_name, _p.gend, _p.brdy,
                  _p.naty, _p.insuplc_admdvs, _p.insuinfo, _p.maf_eligible, _p.deceased,
                  _p.blacklisted)
VISIT_COLUMNS = (_v.mdtrt_id, _v.psn_no, _v.fixmedins_code, _v.insutype, _v.ipt_otp_no,
                 _v.mdtrt_cert_type, _v.mdtrt_cert_no, _v.begntime, _v.med_type, _v.dise_codg,
                 _v.diagnoses, _v.status)
FEE_COLUMNS = (_f.id, _f.mdtrt_id, _f.feedetl_sn, _f.chrg_bchno, _f.psn_no, _f.dise_codg,
               _f.med_list_codg, _f.medins_list_codg, _f.cnt, _f.pric, _f.prd_days,
               _f.det_item_fee_sumamt, _f.fulamt_ownpay_amt, _f.overlmt_amt,
               _f.preselfpay_amt, _f.inscp_scp_amt, _f.result, _f.status, _f.setl_id)
SETTLEMENT_COLUMNS = (_st.setl_id, _st.mdtrt_id, _st.psn_no, _st.fixmedins_code, _st.insutype,
                      _st.med_type, _st.chrg_bchno, _st.clr_type, _st.clr_way, _st.clr_optins,
                      _st.setl_time, _st.biz_date, _st.year, _st.refd_setl_flag,
                      _st.orig_setl_id, _st.cancelled_by, _st.medins_setl_id,
                      _st.made_by_infno, _st.medfee_sumamt, _st.fund_pay_sumamt, _st.acct_pay,
                      _st.psn_cash_pay, _st.hosp_part_amt, _st.setlinfo, _st.setldetail,
                      _st.counter_deltas)
MESSAGE_COLUMNS = tuple(s.messages.columns)
FILE_COLUMNS = tuple(s.files.columns)

SELECTS: dict[str, ClauseElement] = {
    "person": select(*PERSON_COLUMNS).where(_eq(_p.psn_no)),
    "persons_by_certno": select(*PERSON_COLUMNS).where(_eq(_p.certno)).order_by(_p.psn_no),
    "card": select(s.cards.c.card_no, s.cards.c.card_sn, s.cards.c.psn_no, s.cards.c.status)
    .where(_eq(s.cards.c.card_no)),
    "ec_token_owner": select(s.ec_tokens.c.psn_no).where(_eq(s.ec_tokens.c.ec_token)),
    "balance": select(_a.balc).where(_eq(_a.psn_no)),
    "balance_for_update": select(_a.balc).where(_eq(_a.psn_no)).with_for_update(),
    "ytd": select(_cum.name, _cum.value).where(_eq(_cum.psn_no), _eq(_cum.year),
                                                _eq(_cum.insutype)),
    "visit": select(*VISIT_COLUMNS).where(_eq(_v.mdtrt_id)),
    # through ix_visits_outpatient_no (schema.LATER_INDEXES); no ORDER BY, which could have
    # the planner walk the primary key instead
    "open_visits_by_number": select(_v.mdtrt_id).where(
        _eq(_v.fixmedins_code), _eq(_v.ipt_otp_no), _v.status == "open"),
    # PostgreSQL: a lock on (institution, outpatient number) until the transaction ends
    "outpatient_number_lock": select(func.pg_advisory_xact_lock(
        func.hashtext(bindparam("fixmedins_code", type_=String())),
        func.hashtext(bindparam("ipt_otp_no", type_=String())))),
    "fee_rows": select(*FEE_COLUMNS).where(_eq(_f.mdtrt_id)).order_by(_f.id),
    "supplied_days": select(_f.prd_days).where(
        _eq(_f.psn_no), _eq(_f.med_list_codg), _f.status == "settled",
        _f.fee_ocur_time >= bindparam("since")),
    "charged_rows": select(_f.setl_id, _f.mdtrt_id, _f.psn_no, _f.feedetl_sn,
                           _f.fee_ocur_time, _f.med_list_codg, _f.cnt, _f.prd_days,
                           _f.det_item_fee_sumamt, _f.inscp_scp_amt).where(
        _eq(_f.psn_no), _f.status != "cancelled", _f.fee_ocur_time >= bindparam("since"),
        _f.fee_ocur_time <= bindparam("until")).order_by(_f.id),
    "filed_mapping": select(s.mappings.c.med_list_codg).where(
        _eq(s.mappings.c.fixmedins_code), _eq(s.mappings.c.medins_list_codg)),
    "settlement": select(*SETTLEMENT_COLUMNS).where(_eq(_st.setl_id)),
    "settlement_by_msgid": select(*SETTLEMENT_COLUMNS).where(
        _eq(_st.fixmedins_code), _st.medins_setl_id == bindparam("msgid")),
    "live_settlement": select(_st.setl_id).where(
        _eq(_st.mdtrt_id), _st.refd_setl_flag == "0", _st.cancelled_by.is_(None)).limit(1),
    "settlements_of_visit": select(*SETTLEMENT_COLUMNS).where(_eq(_st.mdtrt_id))
    .order_by(_st.setl_time, _st.setl_id),
    "keyed_message": select(*MESSAGE_COLUMNS).where(
        _eq(_m.fixmedins_code), _eq(_m.msgid), _m.keyed.is_(True)),
    "enrolments": select(s.enrolments.c.payer).where(_eq(s.enrolments.c.psn_no)),
    "file": select(*FILE_COLUMNS).where(_eq(s.files.c.file_qury_no)),
    "setting": select(s.settings_table.c.value).where(_eq(s.settings_table.c.name)),
    "signin": select(_si.sign_no, _si.fixmedins_code, _si.opter_no, _si.biz_date, _si.valid)
    .where(_eq(_si.sign_no)),
    "next_seq": update(s.sequences).where(_eq(s.sequences.c.name))
    .values(value=s.sequences.c.value + 1).returning(s.sequences.c.value),
    "cum_add": update(s.cum).where(_eq(_cum.psn_no), _eq(_cum.year), _eq(_cum.insutype),
                                   _eq(_cum.name))
    .values(value=_cum.value + bindparam("delta", type_=Cents())),
    "set_fee_status": update(s.fee_details).where(_f.id == bindparam("row_id"))
    .values(status=bindparam("new_status"), setl_id=bindparam("new_setl_id")),
}

#: Statements only PostgreSQL has (row and advisory locks): SQLite serializes writers anyway
POSTGRESQL_ONLY = frozenset({"balance_for_update", "outpatient_number_lock"})


class Statements:
    """The statements compiled for one dialect; inserts and keyed updates compiled on first
    use for each set of columns (thread-safe: compiling twice is harmless)."""

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        self.named = {name: DriverStatement(clause, dialect) for name, clause in SELECTS.items()
                      if name not in POSTGRESQL_ONLY or dialect.name == "postgresql"}
        self._inserts: dict[tuple[str, tuple[str, ...], bool], DriverStatement] = {}
        self._updates: dict[tuple[str, str, tuple[str, ...]], DriverStatement] = {}

    def __getitem__(self, name: str) -> DriverStatement:
        return self.named[name]

    def insert(self, table: Table, keys: Iterable[str], *,
               returning: ColumnElement[Any] | None = None) -> DriverStatement:
        key = (table.name, tuple(keys), returning is not None)
        found = self._inserts.get(key)
        if found is None:
            clause: Any = insert(table)
            if returning is not None:
                clause = clause.returning(returning)
            found = self._inserts[key] = DriverStatement(clause, self.dialect, column_keys=key[1],
                                                         table=table)
        return found

    def update(self, table: Table, by: str, keys: Iterable[str]) -> DriverStatement:
        """``UPDATE table SET <keys> WHERE <by> = :by_value`` (``by_value`` names the key)."""
        key = (table.name, by, tuple(keys))
        found = self._updates.get(key)
        if found is None:
            clause = update(table).where(and_(table.c[by] == bindparam("by_value"))).values(
                {name: bindparam(name, type_=table.c[name].type) for name in key[2]})
            found = self._updates[key] = DriverStatement(clause, self.dialect)
        return found
