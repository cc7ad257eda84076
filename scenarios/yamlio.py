"""Reading scenario YAML without YAML 1.1's surprises.

PyYAML's default resolvers turn ``2026-03-02`` into a date, ``9:30`` into the number 570
(base 60), ``no``/``on`` into booleans and ``0012`` into 10. A scenario means the text it shows,
so this loader resolves only ``null``, ``true``/``false``, decimal integers and decimal
numbers; everything else stays a string.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

__all__ = ["YamlError", "load_yaml_text"]


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


class YamlError(ValueError):
    """The text is not YAML; the message names the line and column."""


def load_yaml_text(text: str) -> Any:
    """Parse one YAML document with the plain resolvers above."""
    try:
        return yaml.load(text, Loader=_Loader)  # type: ignore[arg-type]  # a safe loader
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        raise YamlError(f"{where}{exc.problem or exc}") from exc
    except yaml.YAMLError as exc:
        raise YamlError(str(exc)) from exc
