"""The array machinery of the fast person generator: text tables, digits, the canvas that
renders a chunk of records (NUL padding removed, sparse fields inserted), and the random draws.
Each is checked against the plain Python it replaces."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.seeding import Draws, derive_seed, top_bits
from simulator.textcols import Canvas, decimal_digits, gather, hex_digits, text_table

# texts as they enter records: any Unicode without control characters (and so without NUL)
_TEXT = st.text(st.characters(min_codepoint=0x20, exclude_categories=("Cs",)), max_size=6)


def test_text_tables_pad_and_refuse_what_would_corrupt_a_record() -> None:
    table = text_table(["ab", "", "数"])
    assert table.shape == (3, 3)
    assert [bytes(row).rstrip(b"\0").decode() for row in table] == ["ab", "", "数"]
    with pytest.raises(ValueError, match="control character"):
        text_table(["a\0b"])
    with pytest.raises(ValueError, match="control character"):
        text_table(["a\nb"])
    with pytest.raises(ValueError, match="does not fit"):
        text_table(["abc"], width=2)
    with pytest.raises(ValueError, match="escaping"):
        text_table(['a"b'], json_string=True)
    with pytest.raises(ValueError, match="escaping"):
        text_table(["a\\b"], json_string=True)


@settings(max_examples=50, deadline=None)
@given(values=st.lists(st.integers(min_value=0, max_value=10**14 - 1), min_size=1, max_size=50),
       words=st.lists(st.integers(min_value=0, max_value=2**64 - 1), min_size=1, max_size=50))
def test_digits_are_those_of_format(values: list[int], words: list[int]) -> None:
    assert [bytes(r).decode() for r in decimal_digits(np.array(values, dtype=np.int64), 14)] == [
        f"{v:014d}" for v in values
    ]
    small = [v % 1000 for v in values]
    assert [bytes(r).decode() for r in decimal_digits(np.array(small, dtype=np.int64), 3)] == [
        f"{v:03d}" for v in small
    ]
    array = np.array(words, dtype=np.uint64)
    assert [bytes(r).decode() for r in hex_digits(array, upper=True)] == [f"{w:016X}" for w in words]
    assert [bytes(r).decode() for r in hex_digits(array, upper=False)] == [f"{w:016x}" for w in words]


@settings(max_examples=60, deadline=None)
@given(
    rows=st.lists(st.tuples(_TEXT, _TEXT, st.integers(0, 2), st.one_of(st.none(), _TEXT), _TEXT),
                  min_size=1, max_size=40),
    tile=st.integers(min_value=1, max_value=7),
)
def test_a_canvas_renders_what_joining_the_texts_gives(
    rows: list[tuple[str, str, int, str | None, str]], tile: int
) -> None:
    """Constant texts, blocks, table lookups and sparse fields (with and without a default),
    over several tiles, give the rows' texts back to back without any NUL."""
    choices = ["", "x", "长一些的"]
    n = len(rows)
    c = Canvas(n)
    c.text(b"{")
    c.block(text_table([r[0] for r in rows]))
    c.text(b"|")
    c.take(text_table(choices), np.array([r[2] for r in rows], dtype=np.int64))
    rare = np.array([i for i, r in enumerate(rows) if r[3] is not None], dtype=np.int64)
    c.sparse(rare, text_table([rows[i][3] or "" for i in rare]))
    c.text(b"|")
    c.sparse(rare, text_table([rows[i][3] or "" for i in rare]), text_table([r[1] for r in rows]))
    c.block(text_table([r[4] for r in rows]))
    c.text(b"}\n")
    expected = "".join(
        "{" + r[0] + "|" + choices[r[2]] + (r[3] or "") + "|" + (r[1] if r[3] is None else r[3]) + r[4] + "}\n"
        for r in rows
    ).encode()
    assert b"".join(c.render(tile)) == expected
    array = c.array()
    assert array.shape == (n, c.width)
    assert bytes(array[0]).replace(b"\0", b"").startswith(b"{" + rows[0][0].encode())


def test_sparse_rows_must_increase_and_match_their_texts() -> None:
    c = Canvas(3)
    with pytest.raises(ValueError, match="increase"):
        c.sparse(np.array([2, 1]), text_table(["a", "b"]))
    with pytest.raises(ValueError, match="texts for"):
        c.sparse(np.array([1]), text_table(["a", "b"]))


def test_gather_is_fancy_indexing() -> None:
    table = text_table(["一", "bb", "", "cccc"])
    index = np.array([3, 0, 0, 2, 1], dtype=np.int64)
    assert (gather(table, index) == table[index]).all()


def test_draws_are_the_documented_function_of_the_pcg64_words() -> None:
    """Draws.uniform is (word >> 11) * 2**-53 of PCG64's raw words, and top_bits their top
    bits: if a NumPy release changed Generator.random, this says so before the golden digests."""
    seed = derive_seed(7, "persons", 3)
    uniform = Draws(seed).uniform(3, 1000)
    words = np.random.PCG64(seed).random_raw(3000).reshape(3, 1000)
    assert (uniform == (words >> np.uint64(11)).astype(np.float64) * 2.0**-53).all()
    assert (top_bits(uniform, 12) == (words >> np.uint64(52)).astype(np.int64)).all()
    assert (top_bits(uniform, 32) == (words >> np.uint64(32)).astype(np.int64)).all()
    with pytest.raises(ValueError):
        top_bits(uniform, 54)
