"""Message texts that follow params: `{params.fault_ratio.equal:percent}` is rendered at load time.

A rulebook version's params never change, so a reference to one is replaced by its value when
the file loads, and what is left is an ordinary template of fact placeholders (`{peril}`),
filled in per claim. An unknown param is a load error; a literal number in a text that equals a
param's value is a warning: change the param and that text would silently disagree with it.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

# A number in running text (Chinese characters may touch it: only ASCII letters and digits may not).
NUMBER = re.compile(r"(?<![A-Za-z0-9_.{])(\d+(?:\.\d+)?)(\s?%)?(?![A-Za-z0-9_}])")


class MessageError(ValueError):
    """A message refers to a param that does not exist, or formats it in a way that fails."""


def _param(params: dict[str, Any], path: str) -> Any:
    value: Any = params
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            raise MessageError(f"unknown param {{params.{path}}}")
        value = value[part]
    if isinstance(value, dict | list | bool):
        raise MessageError(f"{{params.{path}}} is not a single number or text")
    return value


def _show(value: Any, spec: str, path: str) -> str:
    if spec == "percent":
        if not isinstance(value, int | float):
            raise MessageError(f"{{params.{path}:percent}} needs a number")
        return f"{Decimal(str(value)) * 100:f}".rstrip("0").rstrip(".") + "%"
    try:
        return format(value, spec)
    except (ValueError, TypeError) as exc:
        raise MessageError(f"{{params.{path}:{spec}}}: {exc}") from None


def _escape(text: str) -> str:
    return text.replace("{", "{{").replace("}", "}}")


def render_params(text: str, params: dict[str, Any]) -> str:
    """Replace every `{params.…[:spec]}` by the param's value; keep fact placeholders as they are."""
    out = []
    for literal, field, spec, conversion in string.Formatter().parse(text):
        out.append(_escape(literal))
        if field is None:
            continue
        if field.startswith("params."):
            path = field.removeprefix("params.")
            out.append(_escape(_show(_param(params, path), spec or "", path)))
        else:
            out.append(
                "{" + field + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}"
            )
    return "".join(out)


def _numbers(params: Any, path: str = "") -> Iterator[tuple[str, Decimal]]:
    if isinstance(params, dict):
        for key, value in params.items():
            if key != "sla":  # working days per stage: small numbers found in every text
                yield from _numbers(value, f"{path}.{key}" if path else key)
    elif isinstance(params, int | float) and not isinstance(params, bool):
        yield path, Decimal(str(params))


def literal_params(text: str, params: dict[str, Any]) -> list[str]:
    """Name the params whose value a text spells out as a literal number (50% for 0.5, 30 for 30)."""
    literals = "".join(literal for literal, *_ in string.Formatter().parse(text))
    known = [(path, value) for path, value in _numbers(params) if value not in (0, 1)]
    found = []
    for match in NUMBER.finditer(literals):
        number = Decimal(match.group(1))
        value = number / 100 if match.group(2) else number
        found += [f"{match.group(0).strip()} is params.{path}" for path, v in known if v == value]
    return found
