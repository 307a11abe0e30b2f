#!/usr/bin/env python
"""Write the section 指标一览 of docs/measures.md from the indicator library: for every
indicator, grouped by family, its name, code, unit, direction, scopes, baseline and target,
whether it is a resident evaluation (群众评价), its definition, formula, source records and
worked example (``jiedao.evaluation.indicators`` and ``jiedao.evaluation.examples``).

    .venv/bin/python scripts/measures_doc.py

Only the text between ``<!-- indicators:begin -->`` and ``<!-- indicators:end -->`` is
replaced (the section is added at the end of the document when the markers are missing);
the hand-written sections stay as they are. tests/evaluation/test_measures_doc.py fails
when the document differs from what this script writes, so a changed indicator is followed
by a run of the script.
"""

import os
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "measures.md"
BEGIN = "<!-- indicators:begin -->"
END = "<!-- indicators:end -->"

INTRO = (
    "Generated from the indicator library by `scripts/measures_doc.py` — do not edit by hand; "
    "change `src/jiedao/evaluation/indicators.py` or `src/jiedao/evaluation/examples.py` and run "
    "the script. The same formula, source records and worked example are shown on each indicator's "
    "page under 定义 (效能评价 → 指标库: click a figure in the 全街道 column). Baselines and targets are "
    "the library's defaults; an administrator may set others (admin → 指标基线与目标), which the pages show."
)


def _amount(indicator, value) -> str:
    if value is None:
        return "—"
    if indicator.kind == "rate":
        return f"{value * 100:g}%"
    return f"{value:g} {indicator.unit}"


def section() -> str:
    """The generated section, markers included (Django must be set up)."""
    from django.utils import translation

    from jiedao.evaluation import examples, indicators
    from jiedao.evaluation.models import ScopeKind

    with translation.override("zh-hans"):
        scope_labels = {kind: str(label) for kind, label in ScopeKind.choices}
        families: dict[str, list] = {}
        for indicator in indicators.INDICATORS:
            families.setdefault(str(indicator.family), []).append(indicator)
        lines = [BEGIN, "", "## 指标一览 — every indicator", "", INTRO, ""]
        for family, members in families.items():
            lines += [f"### {family}", ""]
            for indicator in members:
                worked = examples.worked(indicator.code)
                unit = "%" if indicator.kind == "rate" else str(indicator.unit)
                direction = "越高越好" if indicator.direction == indicators.HIGHER else "越低越好"
                scopes = " / ".join(scope_labels[kind] for kind in indicator.scopes)
                lines += [
                    f"#### {indicator.name} `{indicator.code}`",
                    "",
                    f"- **单位** {unit}；**方向** {direction}；**适用范围** {scopes}",
                    f"- **基线** {_amount(indicator, indicator.baseline)}；**目标** "
                    f"{_amount(indicator, indicator.target)}"
                    + (f"（{indicator.note}）" if str(indicator.note) else ""),
                    f"- **群众评价** {'是' if indicator.resident else '否'}"
                    + ("；按当前状态计算，只算当前周期" if indicator.snapshot else ""),
                    f"- **定义** {indicator.definition}",
                ]
                if worked is None:
                    lines.append("- **计算公式、数据来源、计算示例** 尚未写明")
                else:
                    lines += [
                        f"- **计算公式** {worked.formula}",
                        f"- **数据来源** {worked.records}",
                        f"- **计算示例** {worked.example}",
                    ]
                lines.append("")
        lines.append(END)
    return "\n".join(lines)


def current(text: str) -> str | None:
    """The section as the document holds it (markers included), or None without markers."""
    start, end = text.find(BEGIN), text.find(END)
    if start < 0 or end < start:
        return None
    return text[start : end + len(END)]


def updated(text: str, generated: str) -> str:
    """The document with its section replaced by ``generated`` (added at the end if missing)."""
    old = current(text)
    if old is None:
        return text.rstrip("\n") + "\n\n" + generated + "\n"
    return text.replace(old, generated, 1)


def main() -> int:
    sys.path.insert(0, str(ROOT / "src"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jiedao.settings")
    import django

    django.setup()
    text = DOC.read_text(encoding="utf-8")
    new = updated(text, section())
    if new == text:
        print(f"{DOC.relative_to(ROOT)}: up to date")
    else:
        DOC.write_text(new, encoding="utf-8")
        print(f"{DOC.relative_to(ROOT)}: section 指标一览 written")
    return 0


if __name__ == "__main__":
    sys.exit(main())
