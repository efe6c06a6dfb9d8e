"""`python -m bot kb …`: knowledge-base maintenance."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from knowledge.loader import NOTICES_DIR, KnowledgeBaseError, load_notices


def run_kb(args: argparse.Namespace) -> int:
    if args.kb_command == "check":
        directory = Path(args.dir) if args.dir else NOTICES_DIR
        try:
            notices = load_notices(directory)
        except KnowledgeBaseError as exc:
            for problem in exc.problems:
                print(problem, file=sys.stderr)
            print(f"知识库校验失败：{len(exc.problems)} 个问题", file=sys.stderr)
            return 1
        facts = sum(len(n.facts) for n in notices)
        print(f"知识库校验通过：{len(notices)} 份通知，{facts} 条事实")
        return 0
    return 2
