"""`kb check` and the loader: a broken file is reported as file: line: message, never half-loaded."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from knowledge.loader import NOTICES_DIR, KnowledgeBaseError, load_notices

ROOT = Path(__file__).resolve().parents[2]
GOOD = NOTICES_DIR / "gz-2017-145.yaml"


def kb_check(directory: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", "kb", "check", "--dir", str(directory)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )


def test_shipped_knowledge_base_is_valid():
    result = subprocess.run([sys.executable, "-m", "bot", "kb", "check"], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert "知识库校验通过" in result.stdout


def test_every_notice_has_a_file_of_its_own(kb):
    assert set(kb.notices) == {
        "穗人社职鉴函〔2017〕145号",
        "粤人社职鉴〔2017〕70号",
        "吉人社办字〔2017〕11号",
        "厦人社〔2020〕141号",
        "闽人社办〔2020〕143号",
        "粤人社函〔2020〕61号",
        "苏人社函〔2020〕239号",
    }


FIXTURE = """\
doc_no: 测试〔2099〕1号
issuer: 测试鉴定中心
issued: 2099-09-26
title: 测试通知
regions: [广州市]
summary: 用于测试的通知。
facts:
  - id: test.withdraw
    kind: deadline
    title: 退考退费登记截止
    topic: 退考退费
    dates:
      - {kind: date, date: 2099-09-30, bound: by}
    action: 向原报考机构作好退考退费登记
    answer: 请于2099年9月30日前向原报考机构作好退考退费登记。
    source: {clause: 二, quote: 请于2099年9月30日前向原报考机构作好退考退费登记}
"""


def _copy_with(tmp_path: Path, name: str, text: str) -> Path:
    shutil.copy(GOOD, tmp_path / GOOD.name)
    (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path


def _broken(old: str, new: str) -> str:
    assert old in FIXTURE
    return FIXTURE.replace(old, new, 1)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("date: 2099-09-30, bound: by", "date: 2099-09-31, bound: by", "date"),
        ("kind: deadline", "kind: deadlin", "deadlin"),
        ("bound: by}", "bound: maybe}", "'on' or 'by'"),
        ("regions: [广州市]", "regions: [火星市]", "未知地区"),
        ("title: 退考退费登记截止", "titel: 退考退费登记截止", "titel"),
    ],
)
def test_invalid_file_is_reported_with_file_and_line(tmp_path, old, new, message):
    directory = _copy_with(tmp_path, "broken.yaml", _broken(old, new))
    result = kb_check(directory)
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if line.startswith("broken.yaml: ")]
    assert lines, result.stderr
    assert any(message in line for line in lines), result.stderr
    if "未知地区" not in message:
        assert any(": line " in line and "line ?" not in line for line in lines), result.stderr
    bad_line = next(i for i, line in enumerate(_broken(old, new).splitlines(), 1) if new.split(",")[0] in line)
    if message != "未知地区":
        assert any(f"line {bad_line} " in line for line in lines), (bad_line, result.stderr)


def test_yaml_syntax_error_names_the_line(tmp_path):
    text = _broken("    topic: 退考退费", "    topic: [退考退费")
    directory = _copy_with(tmp_path, "syntax.yaml", text)
    result = kb_check(directory)
    assert result.returncode == 1
    assert "syntax.yaml: line " in result.stderr


def test_stated_count_must_match_the_list(tmp_path):
    text = """
doc_no: 测试〔2099〕2号
issuer: 测试中心
issued: 2099-01-01
title: 测试
regions: [吉林省]
summary: 测试
facts:
  - id: t.list
    kind: occupation_list
    title: 名单
    topic: 职业
    status: national_unified
    occupations: [电工, 钳工]
    stated_count: 3
    answer: 电工、钳工三个职业
    source: {clause: 一, quote: 电工、钳工3个职业}
"""
    result = kb_check(_copy_with(tmp_path, "count.yaml", text))
    assert result.returncode == 1
    assert "count.yaml: line 15 (facts.0.occupation_list.stated_count)" in result.stderr
    assert "stated_count is 3" in result.stderr


def test_duplicate_fact_id_across_files_and_dangling_list_reference(tmp_path):
    shutil.copy(GOOD, tmp_path / "a.yaml")
    (tmp_path / "b.yaml").write_text(
        FIXTURE.replace("id: test.withdraw", "id: gz145.withdraw-register").replace(
            "    action:", "    applies: {occupation_lists: [nope]}\n    action:"
        ),
        encoding="utf-8",
    )
    result = kb_check(tmp_path)
    assert result.returncode == 1
    assert "fact id 与 a.yaml 重复" in result.stderr
    assert "没有 id 为 nope 的职业名单" in result.stderr


def test_loader_raises_rather_than_half_loading(tmp_path):
    _copy_with(tmp_path, "broken.yaml", _broken("kind: deadline", "kind: nonsense"))
    with pytest.raises(KnowledgeBaseError) as info:
        load_notices(tmp_path)
    assert all(p.file == "broken.yaml" for p in info.value.problems)


def test_a_new_notice_is_a_new_file(tmp_path):
    """Adding a notice needs no code: drop a file in, and the bot answers from it."""
    from knowledge.base import KnowledgeBase
    from knowledge.qa import PolicyQA
    from knowledge.regions import RegionRegistry

    shutil.copy(GOOD, tmp_path / GOOD.name)
    (tmp_path / "js-2099-1.yaml").write_text(
        """
doc_no: 苏人社函〔2099〕1号
issuer: 江苏省人力资源和社会保障厅
issued: 2099-03-01
title: 关于无人机驾驶员职业技能等级认定报名的通知
regions: [江苏省]
summary: 无人机驾驶员认定报名。
facts:
  - id: js2099.drone-registration
    kind: deadline
    title: 无人机驾驶员认定报名截止
    topic: 报名
    dates: [{kind: date, date: 2099-04-30, bound: by}]
    action: 报名参加无人机驾驶员职业技能等级认定
    answer: 无人机驾驶员职业技能等级认定报名截止到2099年4月30日。
    keywords: [无人机驾驶员, 报名]
    source: {clause: 一, quote: 无人机驾驶员职业技能等级认定报名截止到2099年4月30日}
""",
        encoding="utf-8",
    )
    kb = KnowledgeBase(load_notices(tmp_path, RegionRegistry.load()), RegionRegistry.load())
    answer = PolicyQA(kb).answer("江苏无人机驾驶员什么时候截止报名", now=__import__("datetime").date(2099, 4, 1))
    assert answer.matched
    assert "2099年4月30日" in answer.text and "还有29天" in answer.text
    assert answer.sources == ("苏人社函〔2099〕1号",)
