"""Reading the policy engine's YAML files (profiles, worked cases) strictly.

PyYAML's safe loader has two habits a hand-written profile suffers from: a key given twice in a
mapping silently keeps the last one (``values: {2025-01-01: 0.85, 2025-01-01: 0.88}`` loads as
0.88 — a wrong sum, no error), and a date-like key that is not a real day (``2025-02-30``) fails
inside its timestamp constructor with a traceback. :func:`read_yaml` refuses a repeated key,
naming the file, the key's path and the lines, and leaves dates as text so that the loader
checks them itself and names the parameter (:mod:`mock_insurer.policy.dated`).
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from mock_insurer.policy.errors import PolicyError

__all__ = ["read_yaml"]

_MERGE = "tag:yaml.org,2002:merge"


class _TextDates(yaml.SafeLoader):
    """YAML's safe loader with dates left as text (``2025-01-01`` is the string "2025-01-01")."""


_TextDates.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}


def read_yaml(text: str, source: str, error: type[PolicyError]) -> Any:
    """The YAML document in ``text``, dates kept as text; ``source`` names the file in the
    one-line ``error`` raised for bad YAML or a key given twice in one mapping."""
    loader = _TextDates(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _refuse_repeated_keys(loader, node, "", source, error, set())
        return loader.construct_document(node)
    except yaml.YAMLError as exc:
        raise error(f"{source}: not valid YAML: {' '.join(str(exc).split())}") from None
    finally:
        loader.dispose()


def _refuse_repeated_keys(loader: _TextDates, node: Node, path: str, source: str,
                          error: type[PolicyError], seen: set[int]) -> None:
    if id(node) in seen:  # an alias met again (or a recursive document)
        return
    seen.add(id(node))
    if isinstance(node, SequenceNode):
        for index, item in enumerate(node.value):
            _refuse_repeated_keys(loader, item, f"{path}[{index}]", source, error, seen)
        return
    if not isinstance(node, MappingNode):
        return
    lines: dict[str, int] = {}
    for key_node, value_node in node.value:
        if key_node.tag == _MERGE:
            continue
        key = (str(loader.construct_object(key_node)) if isinstance(key_node, ScalarNode)
               else f"<{key_node.tag}>")
        line = key_node.start_mark.line + 1
        if key in lines:
            at = (f"twice on line {line}" if lines[key] == line
                  else f"on lines {lines[key]} and {line}")
            raise error(f"{source}: {path or 'top level'}: key {key} is given {at}; YAML would "
                        "silently keep only the last one, so remove the one that is wrong")
        lines[key] = line
        _refuse_repeated_keys(loader, value_node, f"{path}.{key}" if path else key, source,
                              error, seen)
