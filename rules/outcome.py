"""One claim's adjudication: the fired rules combined (see `combination`) with their reasons."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

from rules import combination
from rules.facts import CENT, jsonable
from rules.rulebook import Rule, Rulebook

COVERAGES = ("covered", "partially_covered", "not_covered", "pending_documents", "undetermined")


@dataclass(frozen=True)
class Reason:
    """Why part of a decision came out as it did: a record, not a sentence."""

    rule_id: str
    code: str
    category: str
    effect: dict[str, Any]
    facts: dict[str, Any]
    customer: dict[str, str]
    internal: str
    standard: dict[str, str] | None = None


@dataclass(frozen=True)
class Adjudication:
    """The engine's decision on one claim."""

    coverage: str
    payable_amount: Decimal
    coverage_ratio: Decimal
    route: str
    required_documents: tuple[str, ...]
    missing_documents: tuple[str, ...]
    investigate: bool
    review: bool
    reasons: tuple[Reason, ...]
    rules_fired: tuple[str, ...]
    rulebook: str
    rulebook_version: str
    rulebook_sha256: str

    @property
    def reason_codes(self) -> tuple[str, ...]:
        """Return the stable codes of every reason, in order."""
        return tuple(r.code for r in self.reasons)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict (amounts as strings, to keep cents exact)."""
        out = asdict(self)
        out["payable_amount"] = str(self.payable_amount)
        out["coverage_ratio"] = str(self.coverage_ratio)
        out["required_documents"] = list(self.required_documents)
        out["missing_documents"] = list(self.missing_documents)
        out["rules_fired"] = list(self.rules_fired)
        out["reasons"] = [asdict(r) for r in self.reasons]
        return out


class _Blank(defaultdict):
    def __missing__(self, key: str) -> str:
        return "-"


def _reason(rule: Rule, typed: Mapping[str, Any], text: Mapping[str, Any]) -> Reason:
    values = {n: text[n] for n in rule.reads if n in typed}
    messages = rule.spec.messages
    customer = {k: v.format_map(text) for k, v in messages.customer.as_dict().items()}
    internal = messages.internal.format_map(text)
    return Reason(
        rule.id,
        rule.spec.code,
        rule.spec.category,
        rule.effect,
        values,
        customer,
        internal,
        rule.standard,
    )


def _system(code: str, category: str, zh: str, en: str, internal: str, **facts: Any) -> Reason:
    return Reason(f"SYSTEM-{code}", code, category, {}, jsonable(facts), {"zh-CN": zh, "en": en}, internal)


def combine(
    rulebook: Rulebook,
    typed: Mapping[str, Any],
    fired_ids: Iterable[str],
    required: Iterable[str],
) -> Adjudication:
    """Turn the fired rule ids and required documents into one adjudication."""
    fired = [rulebook.rule(i) for i in dict.fromkeys(fired_ids)]
    required = tuple(dict.fromkeys(required))
    received = set(typed.get("documents_received", ()))
    missing = tuple(d for d in required if d not in received)
    text = _Blank(str, jsonable(typed))
    reasons = [_reason(r, typed, text) for r in fired]

    ratio = min([Decimal(1), *(r.ratio for r in fired if r.ratio is not None)])
    claimed, deductible = typed["claimed_amount"], typed["deductible"]
    limit = typed["sum_insured_remaining"]
    # Money facts are exact cents (refused otherwise), so the conversion to cents is exact.
    done = combination.one(
        rulebook,
        [r.id for r in fired],
        bool(missing),
        int(claimed * 100),
        int(deductible * 100),
        int(limit * 100),
    )
    coverage, route = done.coverage, combination.ROUTES[done.severity]
    payable = (Decimal(done.payable_cents) / 100).quantize(CENT)

    if coverage != "not_covered":
        labels = {d.spec.code: d.spec.label for d in rulebook.documents}
        for code in missing:
            label = labels[code]
            reasons.append(
                _system(
                    "DOCUMENT_MISSING",
                    "documents",
                    f"请提交：{label.zh_CN}",
                    f"Please send: {label.en}",
                    f"required document '{code}' not yet received",
                    document=code,
                )
            )
    if done.below_deductible:
        reasons.append(
            _system(
                "BELOW_DEDUCTIBLE",
                "payment",
                "索赔金额未超过免赔额，本次无赔款。",
                "The amount claimed does not exceed the deductible, so nothing is payable.",
                "claimed amount at or under the deductible",
                claimed_amount=claimed,
                deductible=deductible,
            )
        )
    elif done.capped:
        reasons.append(
            _system(
                "SUM_INSURED_CAP",
                "payment",
                "赔款以剩余保险金额为限。",
                "The payment is limited to the remaining sum insured.",
                "payable amount capped at the remaining sum insured",
                sum_insured_remaining=limit,
            )
        )
    if done.undetermined:
        reasons.append(
            _system(
                "NO_COVERAGE_DECISION",
                "coverage",
                "您的案件需要理赔人员人工审核。",
                "A claims specialist will review your claim.",
                "no coverage rule matched: referred to review",
            )
        )
    if done.default_route:
        reasons.append(
            _system(
                "DEFAULT_ROUTE",
                "routing",
                "您的案件将按常规流程处理。",
                "Your claim will be handled through our standard process.",
                f"no routing rule matched: default route {route}",
            )
        )

    return Adjudication(
        coverage=coverage,
        payable_amount=payable,
        coverage_ratio=ratio,
        route=route,
        required_documents=required,
        missing_documents=missing,
        investigate=done.investigate,
        review=done.review,
        reasons=tuple(reasons),
        rules_fired=tuple(r.id for r in fired),
        rulebook=rulebook.name,
        rulebook_version=rulebook.version,
        rulebook_sha256=rulebook.sha256,
    )
