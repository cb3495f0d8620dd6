"""Load a rulebook file, check everything in it at once, and give typed objects back."""

from __future__ import annotations

import hashlib
import string
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from rules import expressions as ex
from rules import messages
from rules.schema import (
    DERIVED_FACTS,
    OUTCOME_FACTS,
    STAGES,
    TIERS,
    DocumentSpec,
    FactSpec,
    RulebookSpec,
    RuleSpec,
)

RULEBOOK_DIR = Path(__file__).parent / "rulebooks"
_KIND = {
    "int": ex.Kind.NUMBER,
    "number": ex.Kind.NUMBER,
    "money": ex.Kind.NUMBER,
    "bool": ex.Kind.BOOL,
    "string": ex.Kind.STRING,
    "date": ex.Kind.DATE,
    "list": ex.Kind.LIST,
}


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a rulebook, with where it is."""

    source: str
    line: int
    column: int
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.source}:{self.line}:{self.column}: {self.where}: {self.message}"


class RulebookError(ValueError):
    """A rulebook that cannot be loaded; carries every problem found."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


@dataclass(frozen=True)
class Rule:
    """A rule with its parsed, normalized condition."""

    spec: RuleSpec
    condition: ex.Node
    reads: tuple[str, ...]
    derived: bool  # reads facts derived from the document checklist
    ratio: Decimal | None  # the coverage ratio it sets, params resolved

    @property
    def id(self) -> str:
        """Return the rule id."""
        return self.spec.id

    @cached_property
    def effect(self) -> dict[str, Any]:
        """Return the rule's effect as a plain dict (only what it sets)."""
        return self.spec.then.model_dump(exclude_defaults=True)

    @cached_property
    def standard(self) -> dict[str, str] | None:
        """Return the standard code the rule's reason maps to, if any."""
        return self.spec.standard.model_dump(exclude_none=True) if self.spec.standard else None


@dataclass(frozen=True)
class Document:
    """A checklist entry with its parsed condition."""

    spec: DocumentSpec
    condition: ex.Node
    reads: tuple[str, ...]


@dataclass(frozen=True)
class Rulebook:
    """A loaded, checked rulebook."""

    spec: RulebookSpec
    facts: dict[str, FactSpec]
    rules: tuple[Rule, ...]
    documents: tuple[Document, ...]
    sha256: str
    source: str
    text: str = field(repr=False)
    warnings: tuple[Problem, ...] = ()  # loads, but likely a mistake (a literal number that is a param)

    @property
    def name(self) -> str:
        """Return the product line name."""
        return self.spec.name

    @property
    def version(self) -> str:
        """Return the rulebook version."""
        return self.spec.version

    @property
    def params(self) -> dict[str, Any]:
        """Return the tunable parameters."""
        return self.spec.params

    @cached_property
    def _rules_by_id(self) -> dict[str, Rule]:
        return {r.id: r for r in self.rules}

    def rule(self, rule_id: str) -> Rule:
        """Return one rule by id."""
        return self._rules_by_id[rule_id]


def load(path: str | Path) -> Rulebook:
    """Load and check a rulebook file; raise RulebookError listing every problem."""
    path = Path(path)
    return loads(path.read_text(encoding="utf-8"), source=path.name)


def loads(text: str, source: str = "<rulebook>") -> Rulebook:
    """Load and check rulebook text; raise RulebookError listing every problem."""
    return _Checker(text, source).run()


def problems(path: str | Path) -> list[Problem]:
    """Return every problem in a rulebook file (empty when it is sound)."""
    try:
        load(path)
    except RulebookError as exc:
        return exc.problems
    return []


def shipped() -> list[Path]:
    """Return the rulebook files that ship with the package."""
    return sorted(p for p in RULEBOOK_DIR.glob("*.yaml") if not p.name.endswith(".tests.yaml"))


def load_shipped() -> dict[str, Rulebook]:
    """Load every shipped rulebook, keyed by name."""
    books = (load(p) for p in shipped())
    return {b.name: b for b in books}


def fact_types(facts: Mapping[str, FactSpec], derived: bool) -> dict[str, ex.FactType]:
    """Return the typing environment for expressions, with derived facts if allowed."""
    env = {
        name: ex.FactType(_KIND[spec.type], not spec.required, spec.allowed) for name, spec in facts.items()
    }
    if derived:
        env.update({n: ex.FactType(_KIND[t]) for n, t in DERIVED_FACTS.items()})
    return env


# --- checking ------------------------------------------------------------------------


def _positions(node: yaml.Node, path: tuple = ()) -> Iterator[tuple[tuple, yaml.Node]]:
    yield path, node
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            yield (*path, key.value), key
            yield from _positions(value, (*path, key.value))
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            yield from _positions(item, (*path, i))


class _Checker:
    def __init__(self, text: str, source: str) -> None:
        self.text = text
        self.source = source
        self.found: list[Problem] = []
        self.warnings: list[Problem] = []
        self.nodes: dict[tuple, yaml.Node] = {}
        self.params: dict[str, Any] = {}

    def problem(self, path: tuple, where: str, message: str, column: int | None = None) -> None:
        """Record a problem that stops the file from loading."""
        self.found.append(self.located(path, where, message, column))

    def warn(self, path: tuple, where: str, message: str) -> None:
        """Record something that loads but is likely a mistake."""
        self.warnings.append(self.located(path, where, message, None))

    def located(self, path: tuple, where: str, message: str, column: int | None) -> Problem:
        """Place a message at the line and column of the YAML node it is about."""
        node = None
        for cut in range(len(path), -1, -1):
            node = self.nodes.get(tuple(path[:cut]))
            if node is not None:
                break
        line = node.start_mark.line + 1 if node else 1
        col = node.start_mark.column + 1 if node else 1
        if column is not None and node is not None:
            if node.style in (">", "|"):
                line, col = self.block_position(node, column - 1)
            else:
                col += column - 1 + (1 if node.style else 0)
        return Problem(self.source, line, col, where, message)

    def block_position(self, node: yaml.Node, offset: int) -> tuple[int, int]:
        """Map an offset in a folded or literal block's text back to its line and column."""
        lines = self.text.splitlines()[node.start_mark.line + 1 : node.end_mark.line + 1]
        for i, raw in enumerate(lines):
            content = raw.strip()
            if offset <= len(content):
                indent = len(raw) - len(raw.lstrip())
                return node.start_mark.line + 2 + i, indent + offset + 1
            offset -= len(content) + 1  # folding joins lines with one space (or newline)
        return node.start_mark.line + 1, node.start_mark.column + 1

    def run(self) -> Rulebook:
        try:
            root = yaml.compose(self.text, Loader=yaml.SafeLoader)
            raw = yaml.safe_load(self.text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
            problem = getattr(exc, "problem", None) or str(exc)
            raise RulebookError([Problem(self.source, line, col, "yaml", problem)]) from None
        if root is not None:
            self.nodes = dict(_positions(root))
        if not isinstance(raw, dict):
            raise RulebookError([Problem(self.source, 1, 1, "file", "expected a mapping")])
        try:
            spec = RulebookSpec.model_validate(raw)
        except ValidationError as exc:
            for err in exc.errors():
                loc = tuple(err["loc"])
                self.problem(loc, _describe(raw, loc), err["msg"])
            raise RulebookError(self.found) from None
        return self.check(spec)

    def check(self, spec: RulebookSpec) -> Rulebook:
        self.params = spec.params
        facts = self.check_facts(spec)
        self.check_params(spec)
        documents = self.check_documents(spec, facts)
        rules = self.check_rules(spec, facts)
        if self.found:
            raise RulebookError(self.found)
        digest = hashlib.sha256(self.text.encode("utf-8")).hexdigest()
        return Rulebook(spec, facts, rules, documents, digest, self.source, self.text, tuple(self.warnings))

    def check_facts(self, spec: RulebookSpec) -> dict[str, FactSpec]:
        facts = dict(spec.facts)
        for name, fact in facts.items():
            path = ("facts", name)
            if name in DERIVED_FACTS or name in ("t", "sid", "_zero"):
                self.problem(path, f"fact {name}", "this name is reserved for the engine")
            if not name.isidentifier():
                self.problem(path, f"fact {name}", "a fact name must be an identifier")
            if fact.allowed is not None:
                want = int if fact.type == "int" else str
                if fact.type not in ("int", "string", "list"):
                    self.problem(path, f"fact {name}", f"'allowed' does not apply to {fact.type}")
                elif not all(isinstance(v, want) for v in fact.allowed):
                    self.problem(path, f"fact {name}", f"allowed values must be {want.__name__}")
        for name, kind in OUTCOME_FACTS.items():
            declared = facts.get(name)
            if declared is None or declared.type != kind or not declared.required:
                self.problem(("facts",), f"fact {name}", f"must be declared, required, as {kind}")
        received = facts.get("documents_received")
        if received is not None and received.allowed is None:
            codes = tuple(d.code for d in spec.documents)
            facts["documents_received"] = received.model_copy(update={"allowed": codes})
        return facts

    def check_params(self, spec: RulebookSpec) -> None:
        params = spec.params
        if params.get("default_route") not in TIERS:
            self.problem(("params",), "params.default_route", f"must be one of {list(TIERS)}")
        if not _positive_int(params.get("document_days")):
            self.problem(("params",), "params.document_days", "must be a positive whole number")
        sla = params.get("sla")
        for tier in TIERS:
            for stage in STAGES:
                value = sla.get(tier, {}).get(stage) if isinstance(sla, dict) else None
                if not _positive_int(value):
                    where = f"params.sla.{tier}.{stage}"
                    self.problem(("params", "sla"), where, "must be a positive whole number")

    def check_documents(self, spec: RulebookSpec, facts: dict) -> tuple[Document, ...]:
        env = fact_types(facts, derived=False)
        out, seen = [], set()
        for i, doc in enumerate(spec.documents):
            where = f"document {doc.code}"
            if doc.code in seen:
                self.problem(("documents", i, "code"), where, "listed twice")
            seen.add(doc.code)
            node = self.condition(("documents", i, "when"), where, doc.when, env)
            if node is not None:
                out.append(Document(doc, node, ex.fact_names(node)))
        return tuple(out)

    def check_rules(self, spec: RulebookSpec, facts: dict) -> tuple[Rule, ...]:
        env = fact_types(facts, derived=True)
        out, seen = [], set()
        for i, rule in enumerate(spec.rules):
            where = f"rule {rule.id}"
            if rule.id in seen:
                self.problem(("rules", i, "id"), where, "rule id used twice")
            seen.add(rule.id)
            ratio = self.check_effect(i, rule, spec.params)
            rule = self.check_placeholders(i, rule, facts, spec.params)
            node = self.condition(("rules", i, "when"), where, rule.when, env)
            if node is None:
                continue
            reads = ex.fact_names(node)
            advisory = [n for n in reads if n in facts and facts[n].advisory]
            if advisory and (rule.then.coverage or rule.then.coverage_ratio is not None):
                self.problem(
                    ("rules", i, "then"),
                    where,
                    f"reads advisory fact {advisory[0]!r}: it may route or refer, never decide "
                    "coverage or amount",
                )
            derived = any(n in DERIVED_FACTS for n in reads)
            out.append(Rule(rule, node, reads, derived, ratio))
        return tuple(out)

    def check_effect(self, i: int, rule: RuleSpec, params: dict) -> Decimal | None:
        then = rule.then
        where = f"rule {rule.id}"
        effects = (then.coverage, then.route, then.investigate, then.review, then.coverage_ratio)
        if not any(e not in (None, False) for e in effects):
            self.problem(("rules", i, "then"), where, "'then' has no effect")
        ratio = then.coverage_ratio
        if isinstance(ratio, str):
            value: Any = params
            for part in ratio.removeprefix("params.").split("."):
                value = value.get(part) if isinstance(value, dict) else None
            if not ratio.startswith("params.") or value is None:
                self.problem(("rules", i, "then", "coverage_ratio"), where, f"unknown {ratio!r}")
                return None
            ratio = value
        if ratio is None:
            return None
        if isinstance(ratio, bool) or not isinstance(ratio, int | float) or not 0 < ratio <= 1:
            self.problem(("rules", i, "then"), where, "coverage_ratio must be in (0, 1]")
            return None
        return Decimal(str(ratio))

    def check_placeholders(self, i: int, rule: RuleSpec, facts: dict, params: dict) -> RuleSpec:
        """Render the params the messages refer to; check the facts they leave to fill in."""
        where, path = f"rule {rule.id}", ("rules", i, "messages")
        rendered, literals = {}, []
        for key, text in (
            ("zh-CN", rule.messages.customer.zh_CN),
            ("en", rule.messages.customer.en),
            ("internal", rule.messages.internal),
        ):
            rendered[key] = text
            try:
                rendered[key] = messages.render_params(text, params)
                names = [f for _, f, _, _ in string.Formatter().parse(rendered[key]) if f is not None]
            except (ValueError, messages.MessageError) as exc:
                self.problem(path, where, f"message: {exc}")
                continue
            for name in names:
                if name not in facts:
                    self.problem(path, where, f"unknown fact {{{name}}}")
            literals += messages.literal_params(text, params)
        for literal in dict.fromkeys(literals):
            self.warn(path, where, f"message spells out {literal}: refer to it as {{params.…}}")
        customer = rule.messages.customer.model_copy(
            update={"zh_CN": rendered["zh-CN"], "en": rendered["en"]}
        )
        texts = rule.messages.model_copy(update={"customer": customer, "internal": rendered["internal"]})
        return rule.model_copy(update={"messages": texts})

    def condition(self, path: tuple, where: str, text: str, env: dict) -> ex.Node | None:
        try:
            node = ex.normalize(ex.parse(text, env, self.params))
        except ex.ExpressionError as exc:
            self.problem(path, f"{where}: when", exc.message, exc.column)
            return None
        if isinstance(node, ex.Const) and not node.value:
            self.problem(path, f"{where}: when", "the condition can never be true")
            return None
        return node


def _positive_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _describe(raw: dict[str, Any], loc: tuple) -> str:
    """Name a place in the file the way an analyst would: by rule id or document code."""
    if len(loc) >= 2 and loc[0] in ("rules", "documents") and isinstance(loc[1], int):
        items = raw.get(loc[0])
        item = items[loc[1]] if isinstance(items, list) and loc[1] < len(items) else None
        key = "id" if loc[0] == "rules" else "code"
        if isinstance(item, dict) and isinstance(item.get(key), str):
            rest = ".".join(str(p) for p in loc[2:])
            head = f"{'rule' if key == 'id' else 'document'} {item[key]}"
            return f"{head}: {rest}" if rest else head
    return ".".join(str(p) for p in loc) or "file"
