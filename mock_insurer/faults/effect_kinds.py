"""What a fault does: one frozen dataclass per effect kind (``kind`` is the discriminator),
with how each is read from and written to plain data.

Which effects let the message through to normal processing (and so may take effect in the
ledger) is each effect's :attr:`runs_handler`; the choices are explained in
``docs/faults.md``. Units: ``*_ms`` milliseconds (wall clock), ``seconds`` seconds. Every
number has a bound (:data:`MAX_DELAY_MS`, :data:`MAX_SIGMA`, :data:`MAX_SKEW_SECONDS`): a value
beyond it would hold a connection past any client's patience, or move the clock out of the
calendar, and is refused with the plan rather than failing message after message.

Sources: ``shared/reference/nhsa-interface-facts.md`` §1.2 (client timeouts 2-120 s), §5 (the
``{"code":"999","msg":...}`` intermediary answer, the ``FSI-<text>[<where>]`` shape of
``err_msg``, Hunan's ``infcode`` 0 with a non-empty ``err_msg``).
"""

from __future__ import annotations

import dataclasses
import math
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias

from mock_insurer.faults.validation import (
    FaultPlanError,
    as_mapping,
    check_keys,
    check_number,
    check_whole,
    choice_field,
    fail,
    number_field,
    text_field,
)

__all__ = [
    "DEFAULT_BUSINESS_ERR_MSG",
    "DEFAULT_LOSE_ANSWER_HOLD_MS",
    "DEFAULT_NOT_ENVELOPE_BODY",
    "DEFAULT_SUCCESS_ERR_MSG",
    "DISTRIBUTION_KINDS",
    "EFFECT_KINDS",
    "MAX_DELAY_MS",
    "MAX_SIGMA",
    "MAX_SKEW_SECONDS",
    "BusinessError",
    "ClockSkew",
    "Close",
    "Delay",
    "DelayDistribution",
    "Effect",
    "HttpError",
    "LoseAnswer",
    "Malformed",
    "Refuse",
    "SigninInvalidated",
    "effect_from_data",
    "effect_to_data",
]

# --- default texts (one table; replace when the real center's wording is known) ------------

#: ``err_msg`` of a ``business_error`` fault that names none. ``FSI-<text>[<where>]`` is the
#: shape seen from the real platform (fact sheet §5).
DEFAULT_BUSINESS_ERR_MSG = "FSI-医保中心业务处理失败，请稍后重试[fsiBO_999]"
#: ``err_msg`` sent with ``infcode`` 0 by ``malformed: err_msg_on_success`` (the Hunan quirk,
#: fact sheet §5: some clients treat any non-empty ``err_msg`` as failure).
DEFAULT_SUCCESS_ERR_MSG = "FSI-交易已处理，存在未读提示信息[fsiWarn_001]"
#: Body of ``malformed: not_envelope``: an intermediary's answer in place of the envelope
#: (HN's gateway errors use ``code`` "999" with ``msg``, fact sheet §5).
DEFAULT_NOT_ENVELOPE_BODY = '{"code":"999","msg":"调用医保服务失败：网关处理异常"}'
#: How long ``lose_answer: timeout`` holds the connection when ``after_ms`` is not given:
#: longer than the longest client timeout seen (120 s, Jiangsu; fact sheet §1.2).
DEFAULT_LOSE_ANSWER_HOLD_MS = 130_000
#: The longest wait a plan may ask for (``delay``'s ``ms`` and distribution parameters,
#: ``lose_answer``'s ``after_ms``), in milliseconds: 10 minutes, five times the longest client
#: timeout seen; a drawn delay is cut to it too.
MAX_DELAY_MS = 600_000
#: The largest ``sigma`` of a lognormal delay (already a spread of e^10 ≈ 22 000 times).
MAX_SIGMA = 10
#: The largest clock skew either way, in seconds: 366 days.
MAX_SKEW_SECONDS = 366 * 86_400

EFFECT_KINDS = (
    "refuse",
    "close",
    "delay",
    "http_error",
    "business_error",
    "malformed",
    "lose_answer",
    "signin_invalidated",
    "clock_skew",
)
DISTRIBUTION_KINDS = ("lognormal", "uniform", "exponential", "normal")
_MALFORMED_HOWS = ("garbage", "truncated", "not_envelope", "infcode_string", "err_msg_on_success")
_LOSE_HOWS = ("close", "reset", "timeout")


# --- the effects ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Refuse:
    """Reset the connection (RST) before reading or answering; nothing applied."""

    kind: Literal["refuse"] = field(default="refuse", init=False)

    @property
    def runs_handler(self) -> bool:
        """Whether the message goes on to normal processing (and may take effect)."""
        return False


@dataclass(frozen=True, slots=True)
class Close:
    """Close the connection (FIN) without answering; nothing applied."""

    kind: Literal["close"] = field(default="close", init=False)

    @property
    def runs_handler(self) -> bool:
        """Whether the message goes on to normal processing (and may take effect)."""
        return False


@dataclass(frozen=True, slots=True)
class DelayDistribution:
    """A distribution of delays in milliseconds (wall clock), drawn from the plan's seeded
    generator; draws below 0 become 0 and draws above ``max`` (if given) become ``max``.

    Parameters by kind: ``lognormal`` — ``median`` (ms) and ``sigma`` (of the underlying
    normal, no unit); ``uniform`` — ``low``, ``high`` (ms); ``exponential`` — ``mean`` (ms);
    ``normal`` — ``mean``, ``sd`` (ms).
    """

    kind: Literal["lognormal", "uniform", "exponential", "normal"]
    median: float | None = None
    sigma: float | None = None
    low: float | None = None
    high: float | None = None
    mean: float | None = None
    sd: float | None = None
    max: float | None = None

    def __post_init__(self) -> None:
        if self.kind not in DISTRIBUTION_KINDS:
            raise fail("kind", f"must be one of {', '.join(DISTRIBUTION_KINDS)}", self.kind)
        wanted = _DIST_PARAMS[self.kind]
        for name in ("median", "sigma", "low", "high", "mean", "sd"):
            value = getattr(self, name)
            if name in wanted and value is None:
                raise fail(name, f"is required for a {self.kind} distribution")
            if name not in wanted and value is not None:
                raise fail(
                    name,
                    f"is not a parameter of a {self.kind} distribution "
                    f"(it takes {', '.join(wanted)}, and optionally max)",
                )
        for name in (*wanted, "max"):
            value = getattr(self, name)
            if value is not None:
                signed = name == "mean" and self.kind == "normal"
                high = MAX_SIGMA if name == "sigma" else MAX_DELAY_MS
                check_number(name, value, low=-MAX_DELAY_MS if signed else 0, high=high)
        if self.kind == "lognormal":
            check_number("median", self.median or 0, positive=True)
        if self.kind == "exponential":
            check_number("mean", self.mean or 0, positive=True)
        if self.kind == "uniform" and (self.high or 0) < (self.low or 0):
            raise fail("high", f"must be at least low ({self.low:g})", self.high)

    def draw(self, rng: random.Random) -> float:
        """One delay in milliseconds, clipped to ``[0, max]``."""
        if self.kind == "lognormal":
            value = rng.lognormvariate(math.log(_req(self.median)), _req(self.sigma))
        elif self.kind == "uniform":
            value = rng.uniform(_req(self.low), _req(self.high))
        elif self.kind == "exponential":
            value = rng.expovariate(1.0 / _req(self.mean))
        else:
            value = rng.gauss(_req(self.mean), _req(self.sd))
        value = min(max(0.0, value), MAX_DELAY_MS)
        return value if self.max is None else min(value, self.max)


_DIST_PARAMS: dict[str, tuple[str, ...]] = {
    "lognormal": ("median", "sigma"),
    "uniform": ("low", "high"),
    "exponential": ("mean",),
    "normal": ("mean", "sd"),
}


def _req(value: float | None) -> float:
    assert value is not None  # guaranteed by __post_init__
    return value


@dataclass(frozen=True, slots=True)
class Delay:
    """Wait, then process normally: the message DOES take effect (a client that timed out
    meanwhile sees nothing). Either a fixed ``ms`` or a ``dist``; milliseconds, wall clock."""

    ms: float | None = None
    dist: DelayDistribution | None = None
    kind: Literal["delay"] = field(default="delay", init=False)

    def __post_init__(self) -> None:
        if (self.ms is None) == (self.dist is None):
            raise fail("", "give exactly one of ms (a fixed delay) or dist (a distribution)")
        if self.ms is not None:
            check_number("ms", self.ms, low=0, high=MAX_DELAY_MS)

    @property
    def runs_handler(self) -> bool:
        """Whether the message goes on to normal processing (and may take effect)."""
        return True

    def draw_ms(self, rng: random.Random) -> float:
        """The delay for one message, in milliseconds."""
        if self.dist is not None:
            return self.dist.draw(rng)
        return float(_req(self.ms))


@dataclass(frozen=True, slots=True)
class HttpError:
    """Answer an HTTP 5xx instead of the envelope; nothing applied. ``body`` is sent as given
    (a gateway's HTML page, or ``{"code":"999","msg":"..."}``); ``None`` = a plain page
    naming the status."""

    status: int = 502
    body: str | None = None
    kind: Literal["http_error"] = field(default="http_error", init=False)

    def __post_init__(self) -> None:
        if isinstance(self.status, bool) or not isinstance(self.status, int):
            raise fail("status", "must be an HTTP status from 500 to 599", self.status)
        if not 500 <= self.status <= 599:
            raise fail("status", "must be an HTTP status from 500 to 599", self.status)

    @property
    def runs_handler(self) -> bool:
        """Whether the message goes on to normal processing (and may take effect)."""
        return False


@dataclass(frozen=True, slots=True)
class BusinessError:
    """Answer ``infcode`` -1 with ``err_msg``; nothing applied."""

    err_msg: str = DEFAULT_BUSINESS_ERR_MSG
    kind: Literal["business_error"] = field(default="business_error", init=False)

    def __post_init__(self) -> None:
        if not self.err_msg.strip():
            raise fail("err_msg", "must not be empty (a refusal always says why)")

    @property
    def runs_handler(self) -> bool:
        """Whether the message goes on to normal processing (and may take effect)."""
        return False


@dataclass(frozen=True, slots=True)
class Malformed:
    """An answer a client cannot take at face value. By ``how``:

    - ``garbage``: the message is processed (it takes effect), then the answer is replaced by
      bytes that are not JSON (``body`` if given). Mangled on the way back — the costly case.
    - ``truncated``: processed (takes effect); the real answer is cut in half and the
      connection closed.
    - ``not_envelope``: NOT processed; an intermediary answers HTTP 200 with JSON that is not
      an envelope (``body``, default ``{"code":"999","msg":...}``).
    - ``infcode_string``: processed; the real answer with ``infcode`` as a string (``"0"``).
    - ``err_msg_on_success``: processed; the real answer with ``infcode`` 0 and a non-empty
      ``err_msg`` (the Hunan quirk).
    """

    how: Literal["garbage", "truncated", "not_envelope", "infcode_string", "err_msg_on_success"]
    body: str | None = None
    err_msg: str | None = None
    kind: Literal["malformed"] = field(default="malformed", init=False)

    def __post_init__(self) -> None:
        if self.how not in _MALFORMED_HOWS:
            raise fail("how", f"must be one of {', '.join(_MALFORMED_HOWS)}", self.how)
        if self.body is not None and self.how not in ("garbage", "not_envelope"):
            raise fail("body", "applies only to how: garbage or not_envelope")
        if self.err_msg is not None and self.how != "err_msg_on_success":
            raise fail("err_msg", "applies only to how: err_msg_on_success")
        if self.err_msg is not None and not self.err_msg.strip():
            raise fail("err_msg", "must not be empty (that would be a normal success)")

    @property
    def runs_handler(self) -> bool:
        """Whether the message goes on to normal processing (and may take effect)."""
        return self.how != "not_envelope"

    @property
    def success_err_msg(self) -> str:
        """The ``err_msg`` to send with ``infcode`` 0 (``err_msg_on_success``)."""
        return self.err_msg if self.err_msg is not None else DEFAULT_SUCCESS_ERR_MSG

    @property
    def not_envelope_body(self) -> str:
        """The body to send for ``not_envelope``."""
        return self.body if self.body is not None else DEFAULT_NOT_ENVELOPE_BODY


@dataclass(frozen=True, slots=True)
class LoseAnswer:
    """Process the message (it takes effect, committed), then lose the answer: ``close``
    (FIN), ``reset`` (RST), or ``timeout`` (hold the connection open, answering nothing, then
    close). ``after_ms`` is how long to hold first (wall clock); default 0 for close/reset and
    :data:`DEFAULT_LOSE_ANSWER_HOLD_MS` for timeout."""

    how: Literal["close", "reset", "timeout"] = "close"
    after_ms: float | None = None
    kind: Literal["lose_answer"] = field(default="lose_answer", init=False)

    def __post_init__(self) -> None:
        if self.how not in _LOSE_HOWS:
            raise fail("how", f"must be one of {', '.join(_LOSE_HOWS)}", self.how)
        if self.after_ms is not None:
            check_number("after_ms", self.after_ms, low=0, high=MAX_DELAY_MS)

    @property
    def runs_handler(self) -> bool:
        """Whether the message goes on to normal processing (and may take effect)."""
        return True

    @property
    def hold_ms(self) -> float:
        """Milliseconds to hold the connection before dropping it."""
        if self.after_ms is not None:
            return self.after_ms
        return DEFAULT_LOSE_ANSWER_HOLD_MS if self.how == "timeout" else 0


@dataclass(frozen=True, slots=True)
class SigninInvalidated:
    """The institution's sign-ins are invalidated before the message is handled; the normal
    sign-in check then refuses it (and every later message until the HIS signs in again)."""

    kind: Literal["signin_invalidated"] = field(default="signin_invalidated", init=False)

    @property
    def runs_handler(self) -> bool:
        """Whether the message goes on to normal processing (and may take effect)."""
        return True


@dataclass(frozen=True, slots=True)
class ClockSkew:
    """The insurer's clock is off by ``seconds`` (negative = behind) for matching messages:
    answer times and the sign-in's business day use the skewed clock (the gateway's TIF
    timestamp check uses the wall clock, and runs before any fault's effect)."""

    seconds: int
    kind: Literal["clock_skew"] = field(default="clock_skew", init=False)

    def __post_init__(self) -> None:
        check_whole("seconds", self.seconds, -MAX_SKEW_SECONDS, MAX_SKEW_SECONDS, "seconds")

    @property
    def runs_handler(self) -> bool:
        """Whether the message goes on to normal processing (and may take effect)."""
        return True


Effect: TypeAlias = (
    Refuse
    | Close
    | Delay
    | HttpError
    | BusinessError
    | Malformed
    | LoseAnswer
    | SigninInvalidated
    | ClockSkew
)


# --- reading and writing --------------------------------------------------------------------


def _parse_distribution(value: Any) -> DelayDistribution:
    data = as_mapping(value, "")
    keys = ("kind", "median", "sigma", "low", "high", "mean", "sd", "max")
    check_keys(data, keys, "")
    kind = choice_field(data, "kind", DISTRIBUTION_KINDS, None)
    params = {key: number_field(data, key) for key in keys[1:]}
    return DelayDistribution(kind=kind, **params)


def _effect_refuse(data: Mapping[str, Any]) -> Effect:
    return Refuse()


def _effect_close(data: Mapping[str, Any]) -> Effect:
    return Close()


def _effect_delay(data: Mapping[str, Any]) -> Effect:
    dist = None
    if data.get("dist") is not None:
        try:
            dist = _parse_distribution(data["dist"])
        except FaultPlanError as exc:
            raise exc.located(prefix="dist") from None
    return Delay(ms=number_field(data, "ms"), dist=dist)


def _effect_http_error(data: Mapping[str, Any]) -> Effect:
    status = number_field(data, "status", whole=True)
    return HttpError(status=502 if status is None else status, body=text_field(data, "body"))


def _effect_business_error(data: Mapping[str, Any]) -> Effect:
    err_msg = text_field(data, "err_msg")
    return BusinessError() if err_msg is None else BusinessError(err_msg=err_msg)


def _effect_malformed(data: Mapping[str, Any]) -> Effect:
    return Malformed(
        how=choice_field(data, "how", _MALFORMED_HOWS, None),
        body=text_field(data, "body"),
        err_msg=text_field(data, "err_msg"),
    )


def _effect_lose_answer(data: Mapping[str, Any]) -> Effect:
    return LoseAnswer(
        how=choice_field(data, "how", _LOSE_HOWS, "close"), after_ms=number_field(data, "after_ms")
    )


def _effect_signin_invalidated(data: Mapping[str, Any]) -> Effect:
    return SigninInvalidated()


def _effect_clock_skew(data: Mapping[str, Any]) -> Effect:
    return ClockSkew(seconds=number_field(data, "seconds", required=True, whole=True))


_EFFECTS: dict[str, tuple[tuple[str, ...], Callable[[Mapping[str, Any]], Effect]]] = {
    "refuse": ((), _effect_refuse),
    "close": ((), _effect_close),
    "delay": (("ms", "dist"), _effect_delay),
    "http_error": (("status", "body"), _effect_http_error),
    "business_error": (("err_msg",), _effect_business_error),
    "malformed": (("how", "body", "err_msg"), _effect_malformed),
    "lose_answer": (("how", "after_ms"), _effect_lose_answer),
    "signin_invalidated": ((), _effect_signin_invalidated),
    "clock_skew": (("seconds",), _effect_clock_skew),
}


def effect_from_data(value: Any) -> Effect:
    """Read an effect from plain data (``{kind: ..., ...}`` or just the kind's name).
    Raises :class:`FaultPlanError` naming the field (relative to the effect)."""
    if isinstance(value, str):  # shorthand: `effect: refuse`
        value = {"kind": value}
    data = as_mapping(value, "")
    kind = data.get("kind")
    if kind is None:
        raise fail("kind", f"is required (one of: {', '.join(EFFECT_KINDS)})")
    if not isinstance(kind, str) or kind not in _EFFECTS:
        raise fail("kind", f"unknown effect (expected one of: {', '.join(EFFECT_KINDS)})", kind)
    keys, build = _EFFECTS[kind]
    check_keys(data, ("kind", *keys), "")
    return build(data)


def effect_to_data(effect: Effect) -> dict[str, Any]:
    """Plain data (JSON-ready) that :func:`effect_from_data` reads back to an equal effect."""
    out: dict[str, Any] = {"kind": effect.kind}
    for item in dataclasses.fields(effect):
        if item.name == "kind":
            continue
        value = getattr(effect, item.name)
        if isinstance(value, DelayDistribution):
            value = {
                f.name: getattr(value, f.name)
                for f in dataclasses.fields(value)
                if f.init and getattr(value, f.name) is not None
            }
        if value is not None:
            out[item.name] = value
    return out
