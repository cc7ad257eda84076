"""The ledger's tables (SQLAlchemy Core), the same on SQLite and PostgreSQL.

The ledger is append-only where money moves: a settlement is never updated in its amounts; a
cancellation (2208) or reversal (2601) appends a negated settlement that names the original.
The personal-account balance and the year-to-date counters are kept as current values *and* as
append-only entries; a CHECK keeps every balance and counter >= 0 in the database itself.

Text columns have no length: lengths are the wire's to check (strict mode refuses an
over-long field, tolerant mode records it), and the ledger must never fail on what the gateway
accepted.

Time columns hold the insurer's business clock as ``YYYY-MM-DD HH:MM:SS`` text (what the
interface speaks); ``recorded_at`` columns of the message log hold wall-clock milliseconds.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Connection,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    event,
    inspect,
    text,
)
from sqlalchemy.schema import CreateIndex

from mock_insurer.ledger.types import Cents

__all__ = [
    "LATER_INDEXES",
    "MESSAGE_FAILED",
    "MESSAGE_REFUSED",
    "MESSAGE_UNSUCCESSFUL",
    "METADATA",
    "TABLES",
]

METADATA = MetaData()

institutions = Table(
    "institutions", METADATA,
    Column("fixmedins_code", String, primary_key=True),
    Column("fixmedins_name", String, nullable=False),
    Column("tier", String, nullable=False),
    Column("admdvs", String, nullable=False),
    Column("credentials", Text, nullable=False),  # JSON {paasid, token, apikey}
    Column("blacklisted", Boolean, nullable=False, default=False),
)

persons = Table(
    "persons", METADATA,
    Column("psn_no", String, primary_key=True),
    Column("psn_cert_type", String, nullable=False),
    Column("certno", String, nullable=False, index=True),
    Column("psn_name", String, nullable=False),
    Column("gend", String, nullable=False),
    Column("brdy", String, nullable=False),
    Column("naty", String, nullable=False),
    Column("insuplc_admdvs", String, nullable=False),
    Column("insuinfo", Text, nullable=False),  # JSON list, one row per scheme
    Column("maf_eligible", Boolean, nullable=False, default=False),
    Column("deceased", Boolean, nullable=False, default=False),
    Column("blacklisted", Boolean, nullable=False, default=False),
)

cards = Table(
    "cards", METADATA,
    Column("card_no", String, primary_key=True),
    Column("card_sn", String, nullable=False),
    Column("psn_no", String, ForeignKey("persons.psn_no"), nullable=False, index=True),
    Column("status", String, nullable=False),
)

ec_tokens = Table(
    "ec_tokens", METADATA,
    Column("ec_token", String, primary_key=True),
    Column("psn_no", String, ForeignKey("persons.psn_no"), nullable=False),
)

accounts = Table(
    "accounts", METADATA,
    Column("psn_no", String, ForeignKey("persons.psn_no"), primary_key=True),
    Column("balc", Cents, nullable=False),
    CheckConstraint("balc >= 0", name="ck_accounts_balc_nonneg"),
)

account_entries = Table(
    "account_entries", METADATA,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("psn_no", String, nullable=False, index=True),
    Column("setl_id", String, nullable=True),
    Column("amount", Cents, nullable=False),  # + credit, - debit
    Column("balc_after", Cents, nullable=False),
    Column("biz_time", String, nullable=False),
)

cum = Table(
    "cum", METADATA,
    Column("psn_no", String, nullable=False),
    Column("year", Integer, nullable=False),
    Column("insutype", String, nullable=False),
    Column("name", String, nullable=False),
    Column("value", Cents, nullable=False),
    UniqueConstraint("psn_no", "year", "insutype", "name", name="uq_cum"),
    CheckConstraint("value >= 0", name="ck_cum_nonneg"),
)

cum_entries = Table(
    "cum_entries", METADATA,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("psn_no", String, nullable=False, index=True),
    Column("year", Integer, nullable=False),
    Column("insutype", String, nullable=False),
    Column("name", String, nullable=False),
    Column("delta", Cents, nullable=False),
    Column("setl_id", String, nullable=False),
)

catalogue_items = Table(
    "catalogue_items", METADATA,
    Column("med_list_codg", String, primary_key=True),
    Column("med_list_name", String, nullable=False),
    Column("record", Text, nullable=False),  # the catalogue JSONL record
)

diagnoses = Table(
    "diagnoses", METADATA,
    Column("diag_code", String, primary_key=True),
    Column("diag_name", String, nullable=False),
)

mappings = Table(
    "mappings", METADATA,
    Column("fixmedins_code", String, nullable=False),
    Column("medins_list_codg", String, nullable=False),
    Column("med_list_codg", String, nullable=True),  # the filed (correct) national code
    UniqueConstraint("fixmedins_code", "medins_list_codg", name="uq_mappings"),
)

signins = Table(
    "signins", METADATA,
    Column("sign_no", String, primary_key=True),
    Column("fixmedins_code", String, nullable=False, index=True),
    Column("opter_no", String, nullable=False),
    Column("biz_date", String, nullable=False),
    Column("sign_time", String, nullable=False),
    Column("signout_time", String, nullable=True),
    Column("valid", Boolean, nullable=False),
)

visits = Table(
    "visits", METADATA,
    Column("mdtrt_id", String, primary_key=True),
    Column("psn_no", String, nullable=False, index=True),
    Column("fixmedins_code", String, nullable=False),
    Column("insutype", String, nullable=False),
    Column("ipt_otp_no", String, nullable=False),
    Column("mdtrt_cert_type", String, nullable=False),
    Column("mdtrt_cert_no", String, nullable=False),
    Column("begntime", String, nullable=False),
    Column("dept_code", String, nullable=True),
    Column("dept_name", String, nullable=True),
    Column("atddr_no", String, nullable=True),
    Column("dr_name", String, nullable=True),
    Column("caty", String, nullable=True),
    Column("med_type", String, nullable=True),
    Column("dise_codg", String, nullable=True),
    Column("diagnoses", Text, nullable=False, default="[]"),  # JSON list of diag codes
    Column("status", String, nullable=False),  # open | cancelled
    Column("created_msgid", String, nullable=False),
    Column("biz_time", String, nullable=False),
)

fee_details = Table(
    "fee_details", METADATA,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("mdtrt_id", String, ForeignKey("visits.mdtrt_id"), nullable=False),
    Column("feedetl_sn", String, nullable=False),
    Column("chrg_bchno", String, nullable=False),
    Column("psn_no", String, nullable=False),
    Column("dise_codg", String, nullable=True),
    Column("med_list_codg", String, nullable=False),
    Column("medins_list_codg", String, nullable=False),
    Column("cnt", String, nullable=False),  # decimal text, 16,4
    Column("pric", String, nullable=False),  # decimal text, 16,6
    Column("prd_days", String, nullable=True),
    Column("fee_ocur_time", String, nullable=False),
    Column("bilg_dept_codg", String, nullable=True),
    Column("bilg_dept_name", String, nullable=True),
    Column("bilg_dr_codg", String, nullable=True),
    Column("bilg_dr_name", String, nullable=True),
    Column("det_item_fee_sumamt", Cents, nullable=False),
    Column("fulamt_ownpay_amt", Cents, nullable=False),
    Column("overlmt_amt", Cents, nullable=False),
    Column("preselfpay_amt", Cents, nullable=False),
    Column("inscp_scp_amt", Cents, nullable=False),
    Column("result", Text, nullable=False),  # JSON: the 2204 result row as answered
    Column("status", String, nullable=False),  # uploaded | cancelled | settled
    Column("setl_id", String, nullable=True),
    Column("upload_msgid", String, nullable=False),
    Column("biz_time", String, nullable=False),
    # no status in these two: settling a row changes its status, and an index holding it
    # would be rewritten each time (a visit or a person's item has few rows to filter)
    Index("ix_fee_details_visit", "mdtrt_id"),
    Index("ix_fee_details_supply", "psn_no", "med_list_codg"),
    Index(
        "uq_fee_details_live", "mdtrt_id", "feedetl_sn", unique=True,
        sqlite_where=text("status != 'cancelled'"),
        postgresql_where=text("status != 'cancelled'"),
    ),
)

settlements = Table(
    "settlements", METADATA,
    Column("setl_id", String, primary_key=True),
    Column("mdtrt_id", String, nullable=False, index=True),
    Column("psn_no", String, nullable=False, index=True),
    Column("fixmedins_code", String, nullable=False),
    Column("insutype", String, nullable=False),
    Column("med_type", String, nullable=False),
    Column("chrg_bchno", String, nullable=False),
    Column("clr_type", String, nullable=False),
    Column("clr_way", String, nullable=False),
    Column("clr_optins", String, nullable=False),
    Column("setl_time", String, nullable=False),
    Column("biz_date", String, nullable=False, index=True),
    Column("year", Integer, nullable=False),
    Column("refd_setl_flag", String, nullable=False),  # 0 settlement, 1 its cancellation
    Column("orig_setl_id", String, nullable=True),  # on a cancellation row
    Column("cancelled_by", String, nullable=True),  # on an original, once cancelled
    Column("medins_setl_id", String, nullable=False),  # the msgid that made this row
    Column("made_by_infno", String, nullable=False),  # 2207 | 2208 | 2601
    Column("medfee_sumamt", Cents, nullable=False),
    Column("fund_pay_sumamt", Cents, nullable=False),
    Column("acct_pay", Cents, nullable=False),
    Column("psn_cash_pay", Cents, nullable=False),
    Column("hosp_part_amt", Cents, nullable=False),
    Column("setlinfo", Text, nullable=False),  # JSON: the setlinfo as answered
    Column("setldetail", Text, nullable=False),  # JSON: the fund rows as answered
    Column("counter_deltas", Text, nullable=False),  # JSON {name: "yuan"}
    Index("ix_settlements_msgid", "fixmedins_code", "medins_setl_id"),
    Index("ix_settlements_day", "fixmedins_code", "biz_date"),
)

messages = Table(
    "messages", METADATA,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("fixmedins_code", String, nullable=True),
    Column("msgid", String, nullable=True),
    Column("infno", String, nullable=True),
    Column("keyed", Boolean, nullable=False),  # counts for msgid idempotency
    Column("input_hash", String, nullable=True),
    Column("psn_no", String, nullable=True),
    Column("request", LargeBinary, nullable=False),
    Column("answer", LargeBinary, nullable=True),
    Column("http_status", Integer, nullable=True),
    Column("infcode", Integer, nullable=True),
    Column("rejection_code", String, nullable=True),
    Column("err_msg", Text, nullable=True),
    Column("deviations", Text, nullable=False, default="[]"),
    Column("fault_id", String, nullable=True),
    Column("fault_effect", String, nullable=True),
    Column("status", String, nullable=False),  # answered|replayed|reversed|tombstone|faulted
    Column("replay_of", Integer, nullable=True),
    Column("biz_time", String, nullable=False),
    Column("received_ms", BigInteger, nullable=False),  # wall clock, ms since epoch
    Column("duration_ms", Float, nullable=True),
    Column("effect_ref", String, nullable=True),  # setl_id / mdtrt_id the message made
    Index("ix_messages_msgid", "fixmedins_code", "msgid"),
    Index(
        "uq_messages_msgid", "fixmedins_code", "msgid", unique=True,
        sqlite_where=text("keyed"), postgresql_where=text("keyed"),
    ),
)

# What the message log's result filter (and the drill counters) call a refusal and a failure;
# docs/admin-api.md says it in words. Kept as SQL text, written once: the partial index below
# holds only these messages (a few among 100,000 answered ones), and SQLite uses a partial
# index only when the query's WHERE holds its predicate's terms as written
# (mock_insurer/ledger/queries.py builds the result filter from these same strings).
MESSAGE_REFUSED = "infcode = -1"
"""Answered with ``infcode`` -1 (a failure below may be one too: a refusal whose answer was
lost)."""
MESSAGE_FAILED = "status = 'faulted' OR fault_effect = 'lose_answer'"
"""No usable answer: a transport fault answered (connection refused or closed, HTTP 5xx, an
intermediary's page), or the answer was lost. NULL (not false) when ``fault_effect`` is."""
MESSAGE_UNSUCCESSFUL = f"{MESSAGE_REFUSED} OR ({MESSAGE_FAILED})"

LATER_INDEXES = (
    Index("ix_messages_unsuccessful", messages.c.id,
          sqlite_where=text(MESSAGE_UNSUCCESSFUL), postgresql_where=text(MESSAGE_UNSUCCESSFUL)),
    # 2201 looks up the institution's open visit holding an outpatient number (院内唯一流水).
    # Not unique, and not partial on status: a ledger made before the rule may hold two open
    # visits with one number (a unique index could not be built on it, and the ledger must
    # open), and a visit's status changes on 2202 (an index holding it would be rewritten).
    Index("ix_visits_outpatient_no", visits.c.fixmedins_code, visits.c.ipt_otp_no),
    # the console's latest settlements (order=newest) in a ledger of millions
    Index("ix_settlements_time", settlements.c.setl_time, settlements.c.setl_id),
)
"""Indexes added after ledgers were first made: ``create_all`` makes a missing table with its
indexes but leaves a table that exists alone, so these are also made, when missing, on a
ledger that already has their table (see :func:`_later_indexes`)."""


@event.listens_for(METADATA, "after_create")
def _later_indexes(_metadata: MetaData, connection: Connection, **_kw: Any) -> None:
    """Make the :data:`LATER_INDEXES` an older ledger lacks (every ``Ledger.create()``, in its
    transaction). Building one reads its table once (seconds for a log of millions). On
    PostgreSQL the table is locked first, so that insurer processes starting together on an
    older ledger do not both build it."""
    for index in LATER_INDEXES:
        table = index.table
        assert table is not None
        if inspect(connection).has_index(table.name, str(index.name)):
            continue
        if connection.dialect.name == "postgresql":
            connection.execute(text(f"LOCK TABLE {table.name} IN SHARE ROW EXCLUSIVE MODE"))
        connection.execute(CreateIndex(index, if_not_exists=True))

files = Table(
    "files", METADATA,
    Column("file_qury_no", String, primary_key=True),
    Column("fixmedins_code", String, nullable=False),
    Column("filename", String, nullable=False),
    Column("kind", String, nullable=False),  # upload | result
    Column("content", LargeBinary, nullable=False),
    Column("dld_endtime", String, nullable=False),
    Column("biz_time", String, nullable=False),
)

sequences = Table(
    "sequences", METADATA,
    Column("name", String, primary_key=True),
    Column("value", BigInteger, nullable=False),
)

settings_table = Table(
    "settings", METADATA,
    Column("name", String, primary_key=True),
    Column("value", Text, nullable=False),
)

# -- after the window: declaration, review (审核 → 拒付), payment (回款) — mock_insurer/review --
def _declaration_columns() -> list[Column[Any]]:
    """A declaration's columns: of the month's declaration in force, and of a withdrawn one."""
    return [
        Column("dcla_id", String, primary_key=True),
        Column("fixmedins_code", String, nullable=False),
        Column("period", String, nullable=False),  # YYYY-MM
        Column("status", String, nullable=False),  # declared | reviewed | paid (| withdrawn)
        Column("declared_medfee", Cents, nullable=False),
        Column("declared_fund", Cents, nullable=False),
        Column("declared_acct", Cents, nullable=False),
        Column("declared_cnt", Integer, nullable=False),
        Column("uploaded_medfee", Cents, nullable=False),
        Column("uploaded_fund", Cents, nullable=False),
        Column("uploaded_acct", Cents, nullable=False),
        Column("uploaded_cnt", Integer, nullable=False),
        Column("claimed", Cents, nullable=False),
        Column("deducted", Cents, nullable=False),
        Column("seed", BigInteger, nullable=True),
        Column("declared_on", String, nullable=False),  # business dates YYYY-MM-DD
        Column("reviewed_on", String, nullable=True),
        Column("due_date", String, nullable=True),
        Column("paid_date", String, nullable=True),
    ]


declarations = Table(
    "declarations", METADATA, *_declaration_columns(),
    UniqueConstraint("fixmedins_code", "period", name="uq_declarations_period"),
)
"""One declaration in force per institution and month."""

withdrawn_declarations = Table(
    "withdrawn_declarations", METADATA, *_declaration_columns(),
    Column("withdrawn_on", String, nullable=False),  # business date YYYY-MM-DD
    Index("ix_withdrawn_declarations_month", "fixmedins_code", "period"),
)
"""Declarations withdrawn before review (kept as they were, status ``withdrawn``): moved here
so that their month can be declared again."""

deductions = Table(
    "deductions", METADATA,
    Column("ded_id", String, primary_key=True),
    Column("dcla_id", String, ForeignKey("declarations.dcla_id"), nullable=False, index=True),
    Column("seq", Integer, nullable=False),
    Column("setl_id", String, nullable=False),  # "" for a declaration deduction
    Column("mdtrt_id", String, nullable=False),
    Column("psn_no", String, nullable=False),
    Column("feedetl_sn", String, nullable=True),
    Column("rule_id", String, nullable=True),
    Column("category", String, nullable=False),
    Column("reason", Text, nullable=False),
    Column("reason_en", Text, nullable=False),
    Column("amount", Cents, nullable=False),
    Column("dept_code", String, nullable=False),
    Column("dept_name", String, nullable=False),
    Column("dr_code", String, nullable=False),
    Column("dr_name", String, nullable=False),
    Column("settled_on", String, nullable=False),
    CheckConstraint("amount >= 0", name="ck_deductions_amount_nonneg"),
)

payments = Table(
    "payments", METADATA,
    Column("pay_id", String, primary_key=True),
    Column("fixmedins_code", String, nullable=False, index=True),
    Column("kind", String, nullable=False),  # advance | settlement | recoup
    Column("dcla_id", String, nullable=True),
    Column("year", Integer, nullable=False),  # advance/recoup: the advance's year
    Column("amount", Cents, nullable=False),
    Column("paid_date", String, nullable=False),
    Column("base_amount", Cents, nullable=True),  # advance only
    Column("ratio", String, nullable=True),  # advance only, decimal text
    Column("once_key", String, nullable=False, unique=True),  # one advance/recoup/settlement
)

payment_items = Table(
    "payment_items", METADATA,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("pay_id", String, ForeignKey("payments.pay_id"), nullable=False, index=True),
    Column("setl_id", String, nullable=False),
    Column("claimed", Cents, nullable=False),
    Column("deducted", Cents, nullable=False),
    Column("paid", Cents, nullable=False),
)

# Who a supplementary payer of eligibility "enrolment" covers (veterans' compensation, a
# commercial insurer): one row per person and payer id (docs/policy.md "Several payers").
enrolments = Table(
    "enrolments", METADATA,
    Column("psn_no", String, nullable=False, index=True),
    Column("payer", String, nullable=False),
    UniqueConstraint("psn_no", "payer", name="uq_enrolments"),
)

TABLES = {t.name: t for t in METADATA.sorted_tables}
