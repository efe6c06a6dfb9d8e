"""Scores answers against a question set the way ../shared/eval/score.py does."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from knowledge.qa import PolicyQA

QUESTIONS = Path(__file__).parent / "questions.yaml"
BRACKETS = str.maketrans({"[": "〔", "]": "〕", "(": "〔", ")": "〕", "（": "〔", "）": "〕", "【": "〔", "】": "〕"})
FULLWIDTH = str.maketrans({chr(0xFF10 + i): str(i) for i in range(10)})


def norm_text(s: str) -> str:
    s = re.sub(r"\s+", "", (s or "").translate(FULLWIDTH))
    s = re.sub(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})", lambda m: f"{m[1]}年{int(m[2])}月{int(m[3])}日", s)
    s = re.sub(r"(?<!\d)0(\d)月", r"\1月", s)
    s = re.sub(r"月0(\d)(日|号)", r"月\1\2", s)
    return re.sub(r"(\d{1,2}月\d{1,2})号", r"\1日", s)


def norm_doc(s: str) -> str:
    return re.sub(r"\s+", "", (s or "").translate(BRACKETS))


@dataclass
class Result:
    item: dict[str, Any]
    ok: bool
    cited: bool
    missing: list[list[str]]
    answer: Any


def load_items(path: Path = QUESTIONS) -> list[dict[str, Any]]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def score(qa: PolicyQA, items: list[dict[str, Any]]) -> list[Result]:
    out = []
    for it in items:
        now = dt.date.fromisoformat(str(it["now"])) if it.get("now") else None
        a = qa.answer(it["question"], region=it.get("region"), now=now)
        text = norm_text(a.text)
        if it.get("in_scope", True):
            missing = [g for g in it["expect"] if not any(norm_text(str(alt)) in text for alt in g)]
            ok = a.matched and not missing
            cited = it.get("source") is None or norm_doc(it["source"]) in {norm_doc(s) for s in a.sources}
        else:
            missing, ok, cited = [], not a.matched, True
        out.append(Result(it, ok, cited, missing, a))
    return out


def summary(results: list[Result]) -> dict[str, float]:
    ins = [r for r in results if r.item.get("in_scope", True)]
    oos = [r for r in results if not r.item.get("in_scope", True)]
    return {
        "in_scope": len(ins),
        "answered": sum(r.ok for r in ins) / max(len(ins), 1),
        "answered_and_cited": sum(r.ok and r.cited for r in ins) / max(len(ins), 1),
        "out_of_scope": len(oos),
        "abstained": sum(r.ok for r in oos) / max(len(oos), 1),
    }


SETS = {
    "own": QUESTIONS,
    "fresh": Path(__file__).parent / "fresh_questions_dev.yaml",
    "heldout": Path(__file__).parent / "fresh_questions_heldout.yaml",
    "probe2": Path(__file__).parent / "fresh_questions_probe2.yaml",
    "probe3": Path(__file__).parent / "fresh_questions_probe3.yaml",
    "heldout2": Path(__file__).parent / "fresh_questions_heldout2.yaml",
    "probe4": Path(__file__).parent / "fresh_questions_probe4.yaml",
    "heldout3": Path(__file__).parent / "fresh_questions_heldout3.yaml",
    "heldout4": Path(__file__).parent / "fresh_questions_heldout4.yaml",
    "probe5": Path(__file__).parent / "fresh_questions_probe5.yaml",
    "heldout5": Path(__file__).parent / "fresh_questions_heldout5.yaml",
    "probe6": Path(__file__).parent / "fresh_questions_probe6.yaml",
    "heldout6": Path(__file__).parent / "fresh_questions_heldout6.yaml",
    "probe7": Path(__file__).parent / "fresh_questions_probe7.yaml",
    "heldout7": Path(__file__).parent / "fresh_questions_heldout7.yaml",
    "probe8": Path(__file__).parent / "fresh_questions_probe8.yaml",
    "heldout8": Path(__file__).parent / "fresh_questions_heldout8.yaml",
    "heldout9": Path(__file__).parent / "fresh_questions_heldout9.yaml",
    "heldout10": Path(__file__).parent / "fresh_questions_heldout10.yaml",
}
"""own: our questions; fresh: the half of a fresh set we may study; heldout: its other half, measured
only; probe2, probe3: fresh sets by other writers, each run once before any change it prompted, then
studied; heldout2: probe3's writer's other half, measured only; probe5 / heldout5: a tenth writer's
set (a third out of scope), split at random into a half studied and a half measured only; probe6 /
heldout6, probe7 / heldout7 and probe8 / heldout8: the eleventh to thirteenth writers', the same
way (nearly half out of scope); heldout9 and heldout10: a fourteenth and a fifteenth writer's, all
held out, each run once."""


def median_length(results: list[Result]) -> float:
    lengths = sorted(len(r.answer.text) for r in results if r.item.get("in_scope", True) and r.answer.matched)
    return lengths[len(lengths) // 2] if lengths else 0.0


if __name__ == "__main__":  # python -m tests.knowledge.scoring [own|fresh|heldout] [--show]
    import sys
    from collections import Counter

    name = next((a for a in sys.argv[1:] if a in SETS), "own")
    qa = PolicyQA.load()
    results = score(qa, load_items(SETS[name]))
    print(name, {k: round(v, 3) for k, v in summary(results).items()}, "median answer length:", median_length(results))
    fails = Counter(r.item.get("kind") for r in results if not (r.ok and r.cited))
    print("failures by kind:", dict(fails))
    if "--show" in sys.argv and name != "heldout":
        for r in results:
            if not (r.ok and r.cited):
                it = r.item
                print(
                    f"FAIL {it['id']} [{it.get('kind')}] {it['question']} region={it.get('region')} now={it.get('now')}"
                )
                print(
                    f"   missing={r.missing if r.answer.matched else 'matched=false'} cited={r.cited} "
                    f"want={it.get('source')} got={list(r.answer.sources)} conf={r.answer.confidence:.2f}"
                )
                print("   " + r.answer.text[:260].replace("\n", " | "))
