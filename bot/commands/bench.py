"""`python -m bot bench qa`: latency of question answering, and cold start of `ask`.

Prints numbers; asserts nothing. Targets (issue 2, this 2-core machine): p99 ≤ 5 ms per question on
the seed knowledge base, p99 ≤ 20 ms on a generated knowledge base of 10,000 FAQ entries, cold start
of `python -m bot ask` ≤ 1.5 s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

from knowledge.base import KnowledgeBase
from knowledge.qa import PolicyQA
from knowledge.regions import RegionRegistry
from knowledge.schema import Notice

ROOT = Path(__file__).resolve().parents[2]
QUESTIONS = ROOT / "tests" / "knowledge" / "questions.yaml"

_FALLBACK_QUESTIONS = [
    ("我想在广州退考，还来得及吗", None, "2017-09-28"),
    ("吉林日常鉴定2026年6月22日考试，报名最晚哪天", None, "2026-05-01"),
    ("技师理论考试多长时间", "吉林", None),
    ("钳工退出目录了吗", "福建", None),
    ("公务员考试几月报名", None, None),
]


def _questions() -> list[tuple[str, str | None, str | None]]:
    if QUESTIONS.exists():
        import yaml

        items = yaml.safe_load(QUESTIONS.read_text(encoding="utf-8"))
        return [(it["question"], it.get("region"), it.get("now")) for it in items]
    return _FALLBACK_QUESTIONS


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def _time_questions(qa: PolicyQA, questions: list[tuple[str, str | None, str | None]], rounds: int) -> list[float]:
    parsed = [(q, r, dt.date.fromisoformat(n) if n else None) for q, r, n in questions]
    for q, r, n in parsed:  # warm-up: lazy tables (pinyin) load on first use, not per question
        qa.answer(q, region=r, now=n)
    timings: list[float] = []
    for _ in range(rounds):
        for q, r, n in parsed:
            t0 = time.perf_counter()
            qa.answer(q, region=r, now=n)
            timings.append((time.perf_counter() - t0) * 1000)
    return timings


def _report(label: str, timings: list[float]) -> None:
    print(
        f"{label}: {len(timings)} answers, p50 {statistics.median(timings):.2f} ms, "
        f"p99 {_percentile(timings, 99):.2f} ms, max {max(timings):.2f} ms, "
        f"throughput {len(timings) / (sum(timings) / 1000):.0f} answers/s"
    )


def generated_faq(size: int, seed: int = 7) -> list[Notice]:
    """A synthetic knowledge base: `size` FAQ-style rules spread over 100 notices and four regions,
    with vocabulary drawn from the domain so that postings are as long as in real use."""
    rng = random.Random(seed)
    subjects = "电工 钳工 育婴员 美容师 茶艺师 车工 焊工 保育员 评茶员 中式烹调师 模具工 架子工".split()
    topics = "报名 补考 缴费 证书 成绩 退考退费 照片 考试时间 考核方式 申报条件 鉴定费 材料".split()
    asks = ["什么时候", "怎么办", "需要什么", "在哪里办", "多久", "要交吗", "能不能", "截止哪天"]
    regions = ["广东省", "福建省", "吉林省", "江苏省"]
    notices = []
    per = max(1, size // 100)
    n = 0
    for i in range(100):
        facts = []
        for _ in range(per):
            if n >= size:
                break
            s, t, a = rng.choice(subjects), rng.choice(topics), rng.choice(asks)
            facts.append(
                {
                    "id": f"faq{i}.q{n}",
                    "kind": "rule",
                    "title": f"{s}{t}{a}",
                    "topic": t,
                    "answer": f"{s}的{t}问题：请按第{n}号常见问题的说明办理，{a}以当地通知为准。",
                    "questions": [f"{s}{t}{a}", f"我是{s}，{t}{a}"],
                    "keywords": [s, t],
                    "source": {"clause": "一", "quote": f"第{n}号常见问题"},
                }
            )
            n += 1
        if facts:
            notices.append(
                Notice.model_validate(
                    {
                        "doc_no": f"测试〔2099〕{i}号",
                        "issuer": "测试中心",
                        "issued": "2099-01-01",
                        "title": f"常见问题{i}",
                        "regions": [regions[i % 4]],
                        "summary": "生成的常见问题",
                        "facts": facts,
                    }
                )
            )
    return notices


def _cold_start(runs: int = 5) -> list[float]:
    cmd = [sys.executable, "-m", "bot", "ask", "技师理论考试多长时间", "--region", "吉林"]
    subprocess.run(cmd, capture_output=True, cwd=ROOT, check=True)  # first run builds jieba's cache
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(cmd, capture_output=True, cwd=ROOT, check=True)
        times.append(time.perf_counter() - t0)
    return times


def run_bench(args: argparse.Namespace) -> int:
    if args.bench_command != "qa":
        return 2
    questions = _questions()
    # First, before this process holds a 10,000-fact index that would compete with the children.
    cold = _cold_start()
    print(
        f"cold start of `python -m bot ask` (5 runs after the first): median {statistics.median(cold):.2f} s, "
        f"max {max(cold):.2f} s"
    )

    t0 = time.perf_counter()
    qa = PolicyQA.load()
    print(
        f"seed knowledge base: {len(qa.kb.notices)} notices, {len(qa.kb.entries)} facts, "
        f"built in {(time.perf_counter() - t0) * 1000:.0f} ms"
    )
    _report("seed KB", _time_questions(qa, questions, args.rounds))

    t0 = time.perf_counter()
    faq = PolicyQA(KnowledgeBase(generated_faq(args.faq), RegionRegistry.load()))
    print(f"generated knowledge base: {len(faq.kb.entries)} facts, built in {time.perf_counter() - t0:.1f} s")
    _report(f"{args.faq} FAQ KB", _time_questions(faq, questions, max(1, args.rounds // 4)))

    print(f"peak RSS of this benchmark process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    return 0
