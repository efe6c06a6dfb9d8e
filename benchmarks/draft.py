"""`python -m benchmarks.draft`: recall of `kb draft` against the hand-made knowledge base.

For each seed notice, the draft is compared with the hand-made entries from the same file, kind
by kind (document numbers, dates, relative deadlines, occupation lists with their stated count,
phone numbers). Targets (issue 7): 100% for document numbers and dates, ≥ 95% for the others.
Exit 1 when a target is missed. tests/knowledge/test_drafting_recall.py asserts the same.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import unicodedata
from collections.abc import Sequence
from pathlib import Path

from benchmarks.common import ROOT, machine
from knowledge.drafting import draft_notice, read_notice_file
from knowledge.drafting.recall import KIND_NAMES, KINDS, TARGETS, KindRecall, compare, drafted_values, expected_values
from knowledge.drafting.recall import targets_met as met
from knowledge.drafting.recall import total as total_of
from knowledge.loader import load_notices


def _line(cells: list[str], widths: list[int]) -> str:
    """Cells padded to columns, counting a Chinese character as two columns wide."""
    out = ""
    for cell, width in zip(cells, widths, strict=True):
        used = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in cell)
        out += cell + " " * max(1, width - used)
    return out.rstrip()


def _cell(item: KindRecall) -> str:
    return f"{item.found}/{item.expected} {item.recall:.0%}" if item.expected else "0/0 —"


def run_draft_bench(args: argparse.Namespace) -> int:
    seeds = Path(args.seeds or os.environ.get("SEEDS_DIR") or ROOT.parent / "shared" / "seeds")
    files = sorted(seeds.glob("*.txt"))
    if not files:
        print(f"没有找到原文（*.txt）：{seeds}")
        return 2
    print(machine())
    notices = load_notices()
    rows: list[tuple[str, list[KindRecall], float]] = []
    for path in files:
        started = time.perf_counter()
        draft = draft_notice(read_notice_file(path), seed=path.name)
        elapsed = time.perf_counter() - started
        hand_made = [n for n in notices if n.seed == path.name]
        rows.append((path.name, compare(expected_values(hand_made), drafted_values(draft)), elapsed))
    widths = [26, *(12 for _ in KINDS), 8]
    header = ["原文文件", *(KIND_NAMES[k] for k in KINDS), "用时"]
    print(_line(header, widths))
    for name, items, elapsed in rows:
        cells = [name, *(_cell(i) for i in items), f"{elapsed * 1000:.0f} ms"]
        print(_line(cells, widths))
    totals = total_of(items for _, items, _ in rows)
    print(_line(["合计", *(_cell(totals[k]) for k in KINDS), ""], widths))
    targets = ["目标", *(f"{'' if TARGETS[k] == 1 else '≥'}{TARGETS[k]:.0%}" for k in KINDS), ""]
    print(_line(targets, widths))
    reached = met(totals)
    print(_line(["达标", *("是" if reached[k] else "否" for k in KINDS), ""], widths))
    for kind in KINDS:
        if totals[kind].missing:
            print(f"未找回的{KIND_NAMES[kind]}：{'；'.join(totals[kind].missing)}")
    ok = all(reached.values())
    print("全部达标" if ok else "未达标")
    return 0 if ok else 1


def run_corpus(directory: Path, *, show: bool) -> int:
    """Scores the drafts of a corpus part (NN.txt beside NN.expected.yaml) per kind of fact."""
    import yaml

    from knowledge.drafting.corpus_score import CORRECT, FIX, MISSED, SCORED_KINDS, Tally, score

    files = sorted(directory.glob("*.txt"))
    if not files:
        print(f"没有找到原文（*.txt）：{directory}")
        return 2
    print(machine())
    total = Tally()
    for path in files:
        expected = yaml.safe_load(path.with_suffix(".expected.yaml").read_text(encoding="utf-8"))
        tally = score(draft_notice(read_notice_file(path), seed=path.name), expected)
        total.add(tally)
        print(f"{path.name}: fully correct {tally.fully_correct:.0%}, precision {tally.precision:.0%}")
        if show:
            for note in tally.notes:
                print(f"    {note}")
    widths = [14, 10, 10, 10, 10]
    print(_line(["kind", "correct", "fix", "missed", "wrong"], widths))
    for kind in SCORED_KINDS:
        row = [total.count(kind, o) for o in (CORRECT, FIX, MISSED)]
        if any(row) or total.wrong[kind]:
            print(_line([kind, *map(str, row), str(total.wrong[kind])], widths))
    print(
        f"{_name(directory)}: {total.count()} expected facts, fully correct {total.fully_correct:.1%}, "
        f"found (incl. needing a fix) {(total.count(outcome=CORRECT) + total.count(outcome=FIX)) / total.count():.1%}, "
        f"precision {total.precision:.1%}; drafted rules stating nothing listed: {len(total.extra_rules)}"
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.draft",
        description="知识库草稿的召回率：与手工条目逐类比较（文号、日期、期限、名单、电话）",
    )
    parser.add_argument("--seeds", help="原文目录（默认 ../shared/seeds，或环境变量 SEEDS_DIR）")
    parser.add_argument(
        "--corpus",
        type=Path,
        action="append",
        help="改为评测语料目录（NN.txt 与 NN.expected.yaml）；可重复，逐个语料报告",
    )
    parser.add_argument("--show", action="store_true", help="逐条列出未完全正确与多出的条目")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.corpus:
        return max(run_corpus(part, show=args.show) for part in args.corpus)
    return run_draft_bench(args)


def _name(directory: Path) -> str:
    """second/heldout rather than heldout: parts of different corpora share names."""
    return f"{directory.parent.name}/{directory.name}" if directory.parent.name != "draft_corpus" else directory.name


if __name__ == "__main__":
    sys.exit(main())
