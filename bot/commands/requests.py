"""`python -m bot requests list`: the stored withdrawal requests, personal data masked."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.commands.common import Subparsers
    from storage.models import WithdrawalRequest


def register(subparsers: Subparsers) -> None:
    requests = subparsers.add_parser("requests", help="退考退费申请")
    req_sub = requests.add_subparsers(dest="requests_command", metavar="REQUESTS", required=True)
    req_list = req_sub.add_parser("list", help="列出申请（个人信息已脱敏）")
    req_list.add_argument("--status", help="只列出该状态：submitted、approved、rejected、refunded")
    req_list.add_argument("--json", action="store_true", help="输出 JSON")
    req_list.set_defaults(run=run_requests)


def _row(r: WithdrawalRequest) -> dict[str, object]:
    from storage.masking import mask_name

    return {
        "reference": r.reference,
        "status": r.status,
        "status_reason": r.status_reason,
        "name": mask_name(r.name),
        "id_number": r.id_number_masked,
        "phone": r.phone_masked,
        "region": r.region,
        "doc_no": r.doc_no,
        "occupation": r.occupation,
        "occupation_listed": r.occupation_listed,
        "level": r.level,
        "exam_date": r.exam_date.isoformat(),
        "institution": r.institution,
        "receipt_no": r.receipt_no,
        "channel": r.channel,
        "created_at": r.created_at.isoformat(),
    }


async def _list(args: argparse.Namespace) -> int:
    from bot.app import build_runtime
    from bot.config import Settings
    from storage.requests import list_requests

    runtime = await build_runtime(Settings())
    try:
        async with runtime.db.sessions() as session:
            rows = [_row(r) for r in await list_requests(session, status=args.status)]
    finally:
        await runtime.close()
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    if not rows:
        print("没有申请记录。" if not args.status else f"没有状态为 {args.status} 的申请。")
        return 0
    for row in rows:
        print(
            f"{row['reference']}  {row['status']:<9}  {row['name']}  {row['id_number']}  {row['phone']}  "
            f"{row['region']}  {row['occupation']}  {row['level']}  考试 {row['exam_date']}  {row['institution']}"
        )
    print(f"共 {len(rows)} 条")
    return 0


def run_requests(args: argparse.Namespace) -> int:
    from knowledge.loader import KnowledgeBaseError
    from storage.pii import PiiKeyError
    from storage.requests import STATUSES

    if args.status is not None and args.status not in STATUSES:
        print(f"--status 应为 {'、'.join(STATUSES)} 之一", file=sys.stderr)
        return 2
    try:
        return asyncio.run(_list(args))
    except (KnowledgeBaseError, PiiKeyError) as exc:
        print(f"无法启动：{exc}", file=sys.stderr)
        return 1
