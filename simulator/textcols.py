"""Text as columns of bytes: how the person generator renders a whole chunk of records at once.

A chunk of ``n`` records is laid out as an ``n x width`` array of bytes (one row per record),
built left to right from constant texts (the same in every row) and variable fields. A variable
field takes the width of its longest value and shorter values are padded with NUL bytes, so
every field starts in the same column of every row. :meth:`Canvas.render` then deletes every
NUL byte, which closes the gaps and leaves the records back to back. That is only correct for
text that never contains a NUL byte itself: every text entering a canvas is JSON (or a field of
it) without control characters, which :func:`text_table` checks (and :meth:`Canvas.render`
checks that the markers it replaces add up).

A field that only a few rows have and that would be wide (an old card, a rare insurance row,
several edge-case labels) is *sparse* (:meth:`Canvas.sparse`): the array holds a one-byte marker
(``0x01``) in those rows, and after the NULs are gone each marker is replaced by the row's
text. This keeps the array narrow, so less has to be scanned for NULs.

Tables of texts (:func:`text_table`) are NUL-padded 2-D arrays indexed by row, so choosing one
value per record is one NumPy gather for the whole chunk. Numbers are turned into digits with
tables too (four digits per lookup). Rows of tables and fields are copied as whole cells (a
NumPy void type as wide as the row), which NumPy does far faster than byte by byte.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

__all__ = ["Block", "Canvas", "IntArray", "decimal_digits", "gather", "hex_digits", "text_table"]

#: ``rows x width`` bytes, NUL-padded.
Block = npt.NDArray[np.uint8]
IntArray = npt.NDArray[np.int64]

_NUL = b"\0"
_MARK = b"\x01"  # where a sparse field's text goes
_END = b"\x02"  # ends each text of a sparse field while they are cut apart
_TILE = 256  # rows assembled at a time by Canvas.render (a few hundred KB: stays in cache)


def text_table(texts: Sequence[str | bytes], width: int | None = None, json_string: bool = False) -> Block:
    """The texts (UTF-8) as a ``len(texts) x width`` table, NUL-padded on the right (``width``
    defaults to the longest). Raises ValueError for a text containing a control character
    (NUL included) or wider than ``width``, and with ``json_string`` for one that could not
    stand inside a JSON string as it is (a quotation mark or a backslash)."""
    encoded = [t.encode("utf-8") if isinstance(t, str) else t for t in texts]
    longest = max(map(len, encoded), default=0)
    width = longest if width is None else width
    if longest > width:
        raise ValueError(f"a text of {longest} bytes does not fit a width of {width}")
    every = np.frombuffer(b"".join(encoded), dtype=np.uint8)
    if (every < 32).any():
        raise ValueError("a text contains a control character")
    if json_string and ((every == ord('"')) | (every == ord("\\"))).any():
        raise ValueError("a text would need escaping in a JSON string")
    data = b"".join(t.ljust(width, _NUL) for t in encoded)
    return np.frombuffer(data, dtype=np.uint8).reshape(len(encoded), width).copy()


def _cells(block: Block) -> npt.NDArray[np.void]:
    """Each row of ``block`` as one cell (a NumPy void scalar as wide as the row): NumPy copies
    cells whole, where it would copy a row of bytes byte by byte."""
    block = np.ascontiguousarray(block)
    return block.view(np.dtype((np.void, block.shape[1])))[:, 0]


def gather(table: Block, index: IntArray) -> Block:
    """Row ``index[i]`` of ``table`` as row ``i`` (``table[index]``, faster)."""
    if table.shape[1] == 0:
        return np.zeros((len(index), 0), dtype=np.uint8)
    return _cells(table)[index].view(np.uint8).reshape(len(index), table.shape[1])


_DEC4 = text_table([f"{i:04d}" for i in range(10_000)])
_HEX4 = (text_table([f"{i:04X}" for i in range(1 << 16)]), text_table([f"{i:04x}" for i in range(1 << 16)]))


def decimal_digits(values: IntArray, width: int) -> Block:
    """Non-negative integers below ``10**width`` as ``width`` zero-padded ASCII digits each."""
    groups = []
    rest = values
    for _ in range(width // 4):
        rest, low = np.divmod(rest, 10_000)
        groups.append(gather(_DEC4, low))
    if width % 4:
        groups.append(gather(_DEC4, rest)[:, 4 - width % 4:])
    return np.hstack(groups[::-1])


def hex_digits(values: npt.NDArray[np.uint64], upper: bool) -> Block:
    """64-bit integers as 16 hexadecimal digits each (upper or lower case)."""
    quarters = values.astype(">u8", copy=False).view(">u2").reshape(len(values), 4)  # high first
    return gather(_HEX4[0 if upper else 1], quarters.reshape(-1)).reshape(len(values), 16)


class Canvas:
    """Rows of text built left to right, one part at a time (see the module's docstring)."""

    def __init__(self, rows: int) -> None:
        self.rows = rows
        self.width = 0
        self._texts: list[tuple[int, bytes]] = []
        self._fields: list[tuple[int, int, Block, IntArray | None]] = []
        self._sparse: list[tuple[IntArray, Block]] = []

    def text(self, text: bytes) -> None:
        """The same text in every row."""
        if self._texts and self._texts[-1][0] + len(self._texts[-1][1]) == self.width:
            start, previous = self._texts[-1]
            self._texts[-1] = (start, previous + text)
        else:
            self._texts.append((self.width, text))
        self.width += len(text)

    def block(self, block: Block) -> None:
        """A field given row by row (``rows x w``, NUL-padded)."""
        if block.shape[0] != self.rows:
            raise ValueError(f"a block of {block.shape[0]} rows on a canvas of {self.rows}")
        self._fields.append((self.width, self.width + block.shape[1], block, None))
        self.width += block.shape[1]

    def take(self, table: Block, index: IntArray) -> None:
        """Row ``index[i]`` of ``table`` in row ``i`` (looked up when the rows are assembled)."""
        if len(index) != self.rows:
            raise ValueError(f"{len(index)} indexes on a canvas of {self.rows} rows")
        self._fields.append((self.width, self.width + table.shape[1], table, index))
        self.width += table.shape[1]

    def sparse(self, rows: IntArray, block: Block, default: Block | None = None) -> None:
        """A field that only ``rows`` (increasing) have, row ``i`` of ``block`` for ``rows[i]``;
        the other rows get ``default`` (``rows x w``) or nothing."""
        if len(rows) != len(block):
            raise ValueError(f"{len(block)} texts for {len(rows)} rows")
        if len(rows) > 1 and not (rows[1:] > rows[:-1]).all():
            raise ValueError("the rows of a sparse field must increase")
        if default is None:
            column = np.zeros((self.rows, 1), dtype=np.uint8)
        else:
            column = default.copy() if default.shape[1] else np.zeros((self.rows, 1), dtype=np.uint8)
            column[rows] = 0
        column[rows, 0] = _MARK[0]
        self.block(column)
        if len(rows):
            self._sparse.append((rows, block))

    def _sparse_texts(self) -> tuple[list[bytes], IntArray]:
        """The sparse fields' texts in the order their markers appear, and their rows."""
        texts: list[bytes] = []
        for rows, block in self._sparse:
            ended = np.hstack((block, np.full((len(rows), 1), _END[0], dtype=np.uint8)))
            texts.extend(ended.tobytes().translate(None, _NUL).split(_END)[:-1])
        if len(self._sparse) == 1:
            return texts, self._sparse[0][0]
        rows = np.concatenate([r for r, _ in self._sparse])
        fields = np.concatenate([np.full(len(r), i) for i, (r, _) in enumerate(self._sparse)])
        order = np.lexsort((fields, rows))
        return [texts[i] for i in order.tolist()], rows[order]

    def _copies(self, out: Block) -> list[tuple[npt.NDArray[np.void], npt.NDArray[np.void], IntArray | None]]:
        """(cells of ``out``, source cells, index or None) of each field, ``out`` being an
        array of this canvas's width."""
        copies = []
        for start, stop, data, index in self._fields:
            if stop > start:
                target = out[:, start:stop].view(np.dtype((np.void, stop - start)))[:, 0]
                copies.append((target, _cells(data), index))
        return copies

    def array(self, nul_rows: int = 0) -> Block:
        """All rows as one ``rows x width`` array (still NUL-padded), and ``nul_rows`` empty
        rows after them."""
        out = np.zeros((self.rows + nul_rows, self.width), dtype=np.uint8)
        for start, text in self._texts:
            out[: self.rows, start:start + len(text)] = np.frombuffer(text, dtype=np.uint8)
        for target, source, index in self._copies(out[: self.rows]):
            target[:] = source if index is None else source[index]
        return out

    def render(self, tile: int = _TILE) -> list[memoryview]:
        """The rows back to back, without the NUL padding, as a list of buffers to write in
        order (``os.writev``) or join. Rows are assembled ``tile`` at a time in one reused array
        that stays in the processor's cache; the constant texts are written into it once, and
        each field is copied as whole cells (a NumPy void type of the field's width), not byte
        by byte. The texts of sparse fields are not copied in: the buffers alternate between
        the rows around a marker and the text that replaces it."""
        height = min(tile, self.rows)
        buffer = np.empty((height, self.width), dtype=np.uint8)
        for start, text in self._texts:
            buffer[:, start:start + len(text)] = np.frombuffer(text, dtype=np.uint8)
        copies = self._copies(buffer)
        texts, text_rows = self._sparse_texts() if self._sparse else ([], np.zeros(0, dtype=np.int64))
        cuts = np.searchsorted(text_rows, np.arange(0, self.rows + tile, tile)).tolist()
        pieces: list[memoryview] = []
        for number, begin in enumerate(range(0, self.rows, tile)):
            end = min(begin + tile, self.rows)
            count = end - begin
            for target, source, index in copies:
                target[:count] = source[begin:end] if index is None else source[index[begin:end]]
            flat = buffer[:count].reshape(-1)
            kept = flat[flat.view(np.bool_)]  # every byte but the NULs, in order
            view = kept.data  # a memoryview
            inserts = texts[cuts[number]:cuts[number + 1]]
            if not inserts:
                pieces.append(view)
                continue
            data, done = kept.tobytes(), 0  # bytes.find is the fastest search for the markers
            view = memoryview(data)
            for insert in inserts:
                at = data.find(_MARK, done)
                if at < 0:
                    raise ValueError("fewer sparse-field markers than texts")
                pieces += (view[done:at], memoryview(insert))
                done = at + 1
            if data.find(_MARK, done) >= 0:
                raise ValueError("more sparse-field markers than texts")
            pieces.append(view[done:])
        return pieces
