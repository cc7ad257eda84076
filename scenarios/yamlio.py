"""Reading scenario YAML without YAML 1.1's surprises.

PyYAML's default resolvers turn ``2026-03-02`` into a date, ``9:30`` into the number 570
(base 60), ``no``/``on`` into booleans and ``0012`` into 10. A scenario means the text it shows,
so this loader resolves only ``null``, ``true``/``false``, decimal integers and decimal
numbers; everything else stays a string. A key given twice in one mapping (``seed: 7`` then
``seed: 8``) is refused with both lines — PyYAML would keep the last silently. Scenario and
drill files are both read here.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

__all__ = ["DuplicateKeyError", "YamlError", "load_yaml_text", "typing_hint"]


class _Resolver(yaml.resolver.Resolver):
    pass


_Resolver.yaml_implicit_resolvers = {}
_Resolver.add_implicit_resolver("tag:yaml.org,2002:null", re.compile(r"^(?:~|null|Null|NULL|)$"),
                                ["~", "n", "N", ""])
_Resolver.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
                                list("tTfF"))
_Resolver.add_implicit_resolver("tag:yaml.org,2002:int", re.compile(r"^[-+]?(?:0|[1-9][0-9]*)$"),
                                list("-+0123456789"))
_Resolver.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?$"), list("-+0123456789."))


class _Loader(yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser,
              yaml.composer.Composer, yaml.constructor.SafeConstructor, _Resolver):
    def __init__(self, stream: str) -> None:
        yaml.reader.Reader.__init__(self, stream)
        yaml.scanner.Scanner.__init__(self)
        yaml.parser.Parser.__init__(self)
        yaml.composer.Composer.__init__(self)
        yaml.constructor.SafeConstructor.__init__(self)
        _Resolver.__init__(self)

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        """A mapping whose keys are unique (a merge ``<<`` may repeat a key: that is its
        purpose)."""
        seen: dict[Any, int] = {}
        for key_node, _value in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=True)
            try:
                first = seen.get(key)
            except TypeError:  # an unhashable key: the constructor below says so
                continue
            line = key_node.start_mark.line + 1
            if first is not None:
                raise DuplicateKeyError(key, first, line)
            seen[key] = line
        return super().construct_mapping(node, deep=deep)


class YamlError(ValueError):
    """The text is not YAML; the message names the line and column."""


class DuplicateKeyError(YamlError):
    """A key given twice in one mapping; the message names the key and both lines."""

    def __init__(self, key: Any, first: int, again: int) -> None:
        self.line = again
        super().__init__(f"line {again}: duplicate key {key!r} (first on line {first}); "
                         "give each key once")


_FULL_WIDTH_COLON = re.compile(r"^[ \t\u3000]*(?:-[ \t\u3000]+)?[^\s:#'\"{}\[\]]+：")
_FLOW_FULL_WIDTH_COMMA = re.compile(r"[{\[][^}\]]*，")
_INDENTATION = ("expected <block end>", "mapping values are not allowed",
                "could not find expected ':'", "did not find expected key",
                "did not find expected '-' indicator")


def typing_hint(text: str, line: int | None, problem: str) -> str:
    """What a person editing the file most likely typed wrong, in words, for a YAML error
    reported at 0-based ``line`` (the parser often notices a line late, so the two lines
    before it are looked at too): a full-width colon, comma or space typed with a Chinese
    input method, a tab in the indentation, or else indentation that does not line up.
    "" when nothing is recognised."""
    if line is None:
        return ""
    lines = text.splitlines()
    for number in range(min(line, len(lines) - 1), max(-1, line - 3), -1):
        typed = lines[number]
        indentation = typed[: len(typed) - len(typed.lstrip(" \t\u3000"))]
        if "\u3000" in indentation:
            return (f"line {number + 1} is indented with a full-width space (全角空格); indent "
                    "with ordinary spaces")
        if "\t" in indentation:
            return f"line {number + 1} is indented with a tab; indent with spaces"
        if _FULL_WIDTH_COLON.match(typed):
            return (f"line {number + 1} has a full-width colon '：' (中文冒号) after its key; "
                    "YAML needs ':' followed by a space")
        if _FLOW_FULL_WIDTH_COMMA.search(typed):
            return (f"line {number + 1} has a full-width comma '，' (中文逗号) inside {{...}} or "
                    "[...]; separate the entries with ','")
    if any(words in problem for words in _INDENTATION):
        return (f"check the indentation of line {line + 1} and the lines above it: the keys of "
                "one mapping, and the items of one list, start in the same column")
    return ""


def load_yaml_text(text: str) -> Any:
    """Parse one YAML document with the plain resolvers above."""
    try:
        return yaml.load(text, Loader=_Loader)  # type: ignore[arg-type]  # a safe loader
    except DuplicateKeyError:
        raise
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        problem = str(exc.problem or exc)
        hint = typing_hint(text, mark.line if mark is not None else None, problem)
        raise YamlError(f"{where}{problem}{f' — {hint}' if hint else ''}") from exc
    except yaml.YAMLError as exc:
        raise YamlError(str(exc)) from exc
