"""Same seed and arguments -> byte-identical files (any worker count, any day); another seed ->
other files. Golden digests pin the output so that an unnoticed change in generation fails."""

from __future__ import annotations

import ast
import hashlib
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.catalogue import write_catalogue
from simulator.institutions import write_institutions
from simulator.persons import Layout, PopulationSpec, generate_chunk
from simulator.population import iter_persons, write_population

ROOT = Path(__file__).resolve().parents[2]


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_same_seed_same_bytes_whatever_the_worker_count(tmp_path: Path) -> None:
    count = 20_000  # three chunks
    write_population(tmp_path / "a.jsonl", count, 3, workers=1)
    write_population(tmp_path / "b.jsonl", count, 3, workers=2)
    write_population(tmp_path / "c.jsonl", count, 3, workers=3)
    assert (tmp_path / "a.jsonl").read_bytes() == (tmp_path / "b.jsonl").read_bytes()
    assert (tmp_path / "a.jsonl").read_bytes() == (tmp_path / "c.jsonl").read_bytes()
    write_population(tmp_path / "d.jsonl", count, 4, workers=2)
    assert (tmp_path / "d.jsonl").read_bytes() != (tmp_path / "a.jsonl").read_bytes()


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(min_value=-(2**63), max_value=2**63), count=st.integers(min_value=1, max_value=200))
def test_iterating_twice_gives_the_same_persons(seed: int, count: int) -> None:
    first = list(iter_persons(count, seed=seed))
    assert first == list(iter_persons(count, seed=seed))
    other = list(iter_persons(count, seed=seed + 1))
    assert [p["certno"] for p in first] != [p["certno"] for p in other]


def test_csv_and_every_kind_are_deterministic_too(tmp_path: Path) -> None:
    for name, workers in (("a", 1), ("b", 2)):
        write_population(tmp_path / f"{name}.csv", 9_000, 8, fmt="csv", workers=workers)
        write_institutions(tmp_path / f"{name}_i.jsonl", 12, 8)
        write_catalogue(tmp_path / f"{name}_c.jsonl", 8)
    for suffix in (".csv", "_i.jsonl", "_c.jsonl"):
        assert (tmp_path / f"a{suffix}").read_bytes() == (tmp_path / f"b{suffix}").read_bytes()


# Golden digests: change them only on purpose (a change to generation or to the data files),
# and say so in the commit. (Institutions: + credentials.portal, 2026-11-24, from a stream of
# its own: every other value as before.)
GOLDEN = {
    "persons": "435bda13f0cedda67936dc22af1f5161ec88511a2fec6b3aed1917cf936de0f4",
    "institutions": "e2ab857d9e516f0e3edc1e77abbf7ec84545c08e82c7991a0efb3822d4697fdd",
    "catalogue": "d865627f3344166bbdc63e21246371e404dd3fa485795eb667bde5a27099a3e0",
}


def test_golden_output(tmp_path: Path) -> None:
    write_population(tmp_path / "p.jsonl", 2_000, 42, workers=1)
    write_institutions(tmp_path / "i.jsonl", 8, 42)
    write_catalogue(tmp_path / "c.jsonl", 42)
    got = {
        "persons": _digest(tmp_path / "p.jsonl"),
        "institutions": _digest(tmp_path / "i.jsonl"),
        "catalogue": _digest(tmp_path / "c.jsonl"),
    }
    assert got == GOLDEN


def test_small_chunks_keep_id_numbers_unique_across_chunks_and_groups() -> None:
    """With 64-person chunks, 20,000 persons span 313 chunks: three sequence groups and every
    birth-day class, the layout a population of 3.8 million has with the real chunk size."""
    spec = PopulationSpec(count=20_000, seed=9, edge_rates={"twin": 0.2, "certno_lowercase_x": 0.2})
    layout = Layout.for_count(spec.count, chunk_size=64)
    assert layout.groups == 3
    certnos = [
        line.split(b'"certno":"', 1)[1][:18]
        for chunk in range(layout.n_chunks)
        for line in generate_chunk(spec, layout, chunk)
    ]
    assert len(certnos) == spec.count
    assert len(set(certnos)) == spec.count


def test_the_generator_never_reads_the_clock() -> None:
    """No hidden reads of today's date or the wall clock in the generator's code: the modules
    directly in simulator/ and its data package (the subpackages are other parts of the
    simulator, which take their clocks as arguments, e.g. ``desk.now()``)."""
    forbidden = {"today", "now", "utcnow", "time", "time_ns", "localtime"}
    offenders = []
    generator = [*(ROOT / "simulator").glob("*.py"), *(ROOT / "simulator" / "data").rglob("*.py")]
    for path in sorted(generator):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr in forbidden:
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} .{node.attr}")
            if isinstance(node, ast.ImportFrom) and node.module in {"time", "faker"}:
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} from {node.module}")
            if isinstance(node, ast.Import) and any(a.name in {"time", "faker"} for a in node.names):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} import")
    assert not offenders, offenders
