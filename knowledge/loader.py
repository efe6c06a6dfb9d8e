"""Loads and validates the notice files; a knowledge base is loaded whole or not at all."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from knowledge.regions import RegionRegistry
from knowledge.schema import Notice
from knowledge.yaml_files import SAFE_LOADER

NOTICES_DIR = Path(__file__).parent / "notices"

_BaseLoader = SAFE_LOADER


class _Loader(_BaseLoader):  # type: ignore[misc,valid-type]
    """Safe loader with YAML 1.2 booleans (`bound: on` stays the string 'on', as staff mean it)
    and no timestamps: dates stay text so that the schema validates them with a located error
    (PyYAML's own constructor raises a bare ValueError on 2017-09-31)."""


_DROPPED = {"tag:yaml.org,2002:bool", "tag:yaml.org,2002:timestamp"}
_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag not in _DROPPED]
    for first, resolvers in _BaseLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


@dataclass(frozen=True)
class LoadProblem:
    """One thing wrong with one file, reported as `file: location: message`."""

    file: str
    location: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.location}: {self.message}"


class KnowledgeBaseError(Exception):
    """Raised when any notice file is invalid; carries every problem found."""

    def __init__(self, problems: Sequence[LoadProblem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


def notice_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.iterdir() if p.suffix in {".yaml", ".yml"} and not p.name.startswith("."))


def _line_of(node: yaml.Node | None, loc: Iterable[str | int]) -> int | None:
    """Line (1-based) of the YAML node at a pydantic error location."""
    line = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            nxt = next((v for k, v in node.value if k.value == part), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            nxt = node.value[part]
        else:
            nxt = None  # a discriminator tag such as 'event' in the loc, or a missing key
        if nxt is not None:
            node = nxt
            line = node.start_mark.line + 1
    return line


def parse_notice(path: Path, text: str | None = None) -> tuple[Notice | None, list[LoadProblem]]:
    """Parse one file; returns the notice or the problems that prevent it."""
    name = path.name
    try:
        text = path.read_text(encoding="utf-8") if text is None else text
    except (OSError, UnicodeDecodeError) as exc:
        return None, [LoadProblem(name, "line 1", f"无法读取文件：{exc}")]
    try:
        data: Any = yaml.load(text, Loader=_Loader)  # noqa: S506 - a safe loader
    except (yaml.YAMLError, ValueError) as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else "line ?"
        if "expected a single document" in str(exc):
            # `kb draft` prints one YAML document per notice found in a forwarding notice.
            message = "一个文件只能有一份通知：请把草稿中以 --- 分隔的各份通知分别存为文件"
            return None, [LoadProblem(name, where, message)]
        return None, [LoadProblem(name, where, f"YAML 语法错误：{getattr(exc, 'problem', exc)}")]
    if not isinstance(data, dict):
        return None, [LoadProblem(name, "line 1", "文件内容应为一个映射（doc_no、facts …）")]
    notice, problems = validate_mapping(name, data)
    if problems:
        # Problems are located by line in the node tree, which costs as much again as loading the
        # file: only a file that has problems pays for it.
        return validate_mapping(name, data, yaml.compose(text, Loader=_Loader))  # noqa: S506
    return notice, problems


def validate_mapping(
    name: str, data: dict[str, Any], tree: yaml.Node | None = None
) -> tuple[Notice | None, list[LoadProblem]]:
    """Validate one notice mapping as `kb check` does: draft marks, then the schema. Locations
    name the YAML line when `tree` is given, else only the path (a notice held as JSON, as the
    console publishes it, has no lines)."""
    problems = _draft_marks(name, data, tree)
    try:
        notice = Notice.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            loc = list(err["loc"])
            if err["type"] in {"union_tag_invalid", "union_tag_not_found"}:
                loc.append("kind")  # point at the kind that did not match, not the whole fact
            problems.append(LoadProblem(name, _where(tree, loc), err["msg"]))
        return None, problems
    return (None, problems) if problems else (notice, [])


def _where(tree: yaml.Node | None, loc: list[str | int]) -> str:
    """`line 12 (facts.3.dates.0.date)` in a file; the path alone without one."""
    path_txt = ".".join(str(p) for p in loc) or "(root)"
    if tree is None:
        return path_txt
    return f"line {_line_of(tree, loc) or '?'} ({path_txt})"


PLACEHOLDERS = ("（待填写）", "年份待定）", "待人工填写")
"""What `kb draft` writes where it could not find a value; a file still holding one is a draft."""


def strings_outside_sources(value: Any, loc: tuple[str | int, ...] = ()) -> Iterable[tuple[list[str | int], str]]:
    """Every string in a mapping with where it is, except the notice's own words (source quotes)."""
    if isinstance(value, str):
        yield list(loc), value
    elif isinstance(value, dict):
        for key, item in value.items():
            if key != "source":
                yield from strings_outside_sources(item, (*loc, str(key)))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from strings_outside_sources(item, (*loc, i))


def _draft_marks(name: str, data: dict[str, Any], tree: yaml.Node | None) -> list[LoadProblem]:
    """A draft (`kb draft`) is refused until a person has checked it: every `review: true` and
    every unresolved problem is reported, whether or not the rest of the file is valid yet."""
    problems: list[LoadProblem] = []
    for loc, text in strings_outside_sources(data):
        if any(mark in text for mark in PLACEHOLDERS):
            where = _where(tree, loc)
            problems.append(LoadProblem(name, where, f"仍有起草时留下的占位内容，须填写真实内容：{text[:60]}"))
    if data.get("review") is True:
        problems.append(
            LoadProblem(name, _where(tree, ["review"]), "文头尚待核对（review: true）：核对文号、日期、标题后删除此行")
        )
    for i, message in enumerate(data.get("problems") or []):
        problems.append(LoadProblem(name, _where(tree, ["problems", i]), f"起草问题尚未解决：{message}"))
    facts = data.get("facts")
    for i, fact in enumerate(facts if isinstance(facts, list) else []):
        if isinstance(fact, dict) and fact.get("review") is True:
            ident = fact.get("id") or f"facts.{i}"
            problems.append(
                LoadProblem(
                    name,
                    _where(tree, ["facts", i, "review"]),
                    f"条目 {ident} 尚待审核（review: true），不能发布：对照原文核对后删除 review 或设为 false",
                )
            )
    return problems


def cross_checks(notices: dict[str, Notice], files: dict[str, str], regions: RegionRegistry) -> list[LoadProblem]:
    """What no single file shows: unknown regions, fact ids used twice, references to missing
    lists or notices. `files` names each notice (doc_no → file name) in the problems."""
    problems: list[LoadProblem] = []
    seen_ids: dict[str, str] = {}
    list_ids = {f.id for n in notices.values() for f in n.facts if f.kind == "occupation_list"}
    for doc_no, notice in notices.items():
        file = files[doc_no]
        for region in notice.regions:
            if region not in regions:
                problems.append(LoadProblem(file, "regions", f"未知地区：{region}（请先加入 knowledge/regions.yaml）"))
        for fact in notice.facts:
            if fact.id in seen_ids:
                problems.append(LoadProblem(file, f"facts.{fact.id}", f"fact id 与 {seen_ids[fact.id]} 重复"))
            seen_ids[fact.id] = file
            for region in fact.regions or []:
                if region not in regions:
                    problems.append(LoadProblem(file, f"facts.{fact.id}.regions", f"未知地区：{region}"))
            for ref in fact.applies.occupation_lists:
                if ref not in list_ids:
                    problems.append(LoadProblem(file, f"facts.{fact.id}.applies", f"没有 id 为 {ref} 的职业名单"))
        if notice.withdrawal is not None:
            problems.extend(_withdrawal_checks(notice, file))
        for ref in notice.supersedes:
            if ref not in notices:
                problems.append(LoadProblem(file, "supersedes", f"被替代的文件 {ref} 不在知识库中"))
    return problems


def _withdrawal_checks(notice: Notice, file: str) -> list[LoadProblem]:
    policy = notice.withdrawal
    assert policy is not None
    facts = {f.id: f for f in notice.facts}
    expected = {
        "grant": None,
        "deadline": ("deadline", "event"),
        "exam_by": ("deadline", "event"),
        "occupation_list": ("occupation_list",),
        "declaration": ("form",),
        "refund": None,
        "report": ("deadline", "event"),
    }
    problems = []
    for name, kinds in expected.items():
        ref = getattr(policy, name)
        if ref is None:
            continue
        fact = facts.get(ref)
        if fact is None:
            problems.append(LoadProblem(file, f"withdrawal.{name}", f"本文件中没有 id 为 {ref} 的条目"))
        elif kinds and fact.kind not in kinds:
            problems.append(
                LoadProblem(file, f"withdrawal.{name}", f"{ref} 的类型是 {fact.kind}，应为 {'/'.join(kinds)}")
            )
        elif name in ("deadline", "exam_by") and not any(d.kind == "date" for d in fact.dates):  # type: ignore[union-attr]
            problems.append(LoadProblem(file, f"withdrawal.{name}", f"{ref} 没有具体日期"))
        elif name == "declaration" and not fact.template:  # type: ignore[union-attr]
            problems.append(LoadProblem(file, f"withdrawal.{name}", f"{ref} 没有声明正文 template"))
    return problems


def load_notices(directory: Path = NOTICES_DIR, regions: RegionRegistry | None = None) -> list[Notice]:
    """Load every notice file in `directory`, or raise KnowledgeBaseError listing all problems."""
    regions = regions or RegionRegistry.load()
    problems: list[LoadProblem] = []
    notices: dict[str, Notice] = {}
    files: dict[str, str] = {}
    paths = notice_files(directory) if directory.is_dir() else []
    if not paths:
        raise KnowledgeBaseError([LoadProblem(str(directory), "-", "目录中没有通知文件（*.yaml）")])
    for path in paths:
        notice, found = parse_notice(path)
        problems.extend(found)
        if notice is None:
            continue
        if notice.doc_no in notices:
            problems.append(LoadProblem(path.name, "doc_no", f"文件号 {notice.doc_no} 与 {files[notice.doc_no]} 重复"))
            continue
        notices[notice.doc_no] = notice
        files[notice.doc_no] = path.name
    problems.extend(cross_checks(notices, files, regions))
    if problems:
        raise KnowledgeBaseError(problems)
    return list(notices.values())
