"""`python -m bot kb …`: knowledge-base maintenance: `check` validates the notice files, `draft`
turns a notice's plain text into a draft entry for a person to review."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from knowledge.loader import NOTICES_DIR, KnowledgeBaseError, load_notices


def run_kb(args: argparse.Namespace) -> int:
    if args.kb_command == "draft":
        return run_draft(Path(args.file), args.region)
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


def run_draft(path: Path, region: str | None) -> int:
    """Print the draft as YAML on stdout and a summary on stderr; 2 when the file is not a text notice."""
    from knowledge.drafting import NotTextError, draft_notice, read_notice_file

    try:
        text = read_notice_file(path)
    except FileNotFoundError:
        print(f"找不到文件：{path}", file=sys.stderr)
        return 2
    except IsADirectoryError:
        print(f"这是一个目录，不是通知文件：{path}", file=sys.stderr)
        return 2
    except NotTextError as exc:
        print(f"{path}：{exc}", file=sys.stderr)
        return 2
    draft = draft_notice(text, region=region, seed=path.name)
    sys.stdout.write(draft.to_yaml())
    facts = sum(len(n.facts) for n in draft.notices)
    problems = sum(len(n.problems) for n in draft.notices)
    print(
        f"草稿：{len(draft.notices)} 份通知，{facts} 条待审核条目（review: true），{problems} 个待解决问题"
        + (f"；已略去网页导航、页脚等 {len(draft.dropped)} 行" if draft.dropped else ""),
        file=sys.stderr,
    )
    for notice in draft.notices:
        for problem in notice.problems:
            print(f"  {notice.doc_no or '（无文号）'}：{problem}", file=sys.stderr)
    return 0
