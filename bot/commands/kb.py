"""`python -m bot kb …`: knowledge-base maintenance: `check` validates the notice files, `draft`
turns a notice's plain text into a draft entry for a person to review."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.commands.common import Subparsers


def register(subparsers: Subparsers) -> None:
    kb = subparsers.add_parser("kb", help="知识库维护")
    kb_sub = kb.add_subparsers(dest="kb_command", metavar="KB_COMMAND", required=True)
    check = kb_sub.add_parser("check", help="校验全部通知文件，错误按 文件: 位置: 说明 输出")
    check.add_argument("--dir", help="通知文件目录（默认 knowledge/notices）")
    check.set_defaults(run=run_check)
    draft = kb_sub.add_parser(
        "draft",
        help="从通知纯文本生成知识库草稿（YAML 输出到标准输出，每条提取的条目标 review: true）",
        description="提取文号、发文单位、日期、相对期限、职业名单、联系方式和附件表格；无法确定的写入 problems。"
        "转发类通知中的每份文件各输出一个 YAML 文档（以 --- 分隔）。",
    )
    draft.add_argument("file", metavar="NOTICE.txt", help="通知正文的纯文本文件（UTF-8 或 GB18030）")
    draft.add_argument("--region", help="本文（第一份文件）适用的地区，如 广州、吉林；默认按发文单位判断")
    draft.set_defaults(run=run_draft_command)


def run_check(args: argparse.Namespace) -> int:
    from knowledge.loader import NOTICES_DIR, KnowledgeBaseError, load_notices

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


def run_draft_command(args: argparse.Namespace) -> int:
    return run_draft(Path(args.file), args.region)


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
