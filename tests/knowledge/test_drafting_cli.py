"""`python -m bot kb draft` and what `kb check` does with a draft: a file that is not text is
refused with exit code 2, and a draft cannot be published while anything in it awaits review."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from benchmarks.draft import main as bench_draft
from bot.__main__ import main
from tests.knowledge.test_drafting import HANGZHOU

ROOT = Path(__file__).resolve().parents[2]
JILIN = "001_4aab3fcd64cbda8b.txt"


def draft_cli(path: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str, str]:
    code = main(["kb", "draft", str(path), *extra])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_a_file_that_is_not_text_exits_2_with_a_chinese_message(tmp_path):
    binary = tmp_path / "notice.pdf"
    binary.write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\x00\x00<< /Type /Catalog >>")
    result = subprocess.run(
        [sys.executable, "-m", "bot", "kb", "draft", str(binary)], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert result.returncode == 2
    assert "不是文本文件" in result.stderr and "Traceback" not in result.stderr
    assert result.stdout == ""


def test_missing_file_and_undecodable_bytes(tmp_path, capsys):
    code, out, err = draft_cli(tmp_path / "nothing.txt", capsys)
    assert code == 2 and "找不到文件" in err and out == ""
    latin = tmp_path / "latin.txt"
    latin.write_bytes(bytes(range(0x80, 0x100)) * 10)
    code, out, err = draft_cli(latin, capsys)
    assert code == 2 and "UTF-8" in err and "GB18030" in err


def test_gb18030_text_is_drafted_with_a_region_option(tmp_path, capsys):
    notice = tmp_path / "hz.txt"
    notice.write_bytes(HANGZHOU.encode("gb18030"))
    code, out, err = draft_cli(notice, capsys, "--region", "杭州")
    assert code == 0, err
    (data,) = list(yaml.safe_load_all(out))
    assert data["doc_no"] == "杭人社发〔2023〕45号" and data["regions"] == ["杭州市"]
    assert "待解决问题" in err


def test_a_seed_draft_is_yaml_in_the_knowledge_base_format(seeds_dir, capsys):
    code, out, err = draft_cli(seeds_dir / JILIN, capsys)
    assert code == 0, err
    (data,) = list(yaml.safe_load_all(out))
    assert data["doc_no"] == "吉人社办字〔2017〕11号" and data["seed"] == JILIN and data["review"] is True
    assert data["facts"] and all(f["review"] is True for f in data["facts"])
    assert all({"id", "kind", "source"} <= f.keys() and f["source"]["quote"] for f in data["facts"])


def kb_check(directory: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["kb", "check", "--dir", str(directory)])
    out = capsys.readouterr()
    return code, out.out + out.err


def test_kb_check_refuses_a_draft_until_it_is_reviewed(seeds_dir, tmp_path, capsys):
    _, out, _ = draft_cli(seeds_dir / JILIN, capsys)
    draft = tmp_path / "jl-2017-11.yaml"
    draft.write_text(out, encoding="utf-8")
    code, report = kb_check(tmp_path, capsys)
    assert code == 1
    assert "文头尚待核对（review: true）" in report
    assert re.search(
        r"jl-2017-11\.yaml: line \d+ \(facts\.0\.review\): 条目 \S+ 尚待审核（review: true），不能发布", report
    )
    assert "起草问题尚未解决：summary（本文概要）待填写" in report

    # A reviewer reads every fact, removes the marks, resolves the problems and writes a summary.
    reviewed = re.sub(r"(?m)^\s*review: true\n", "", out)
    reviewed = re.sub(r"(?ms)^problems:\n(?:- .*?\n)+", "problems: []\n", reviewed)
    reviewed = reviewed.replace("summary: ''", "summary: 吉林省2017年职业技能鉴定工作安排。")
    draft.write_text(reviewed, encoding="utf-8")
    code, report = kb_check(tmp_path, capsys)
    assert code == 0, report
    assert "知识库校验通过：1 份通知" in report


def test_kb_check_says_a_forwarding_draft_holds_two_notices(seeds_dir, tmp_path, capsys):
    _, out, _ = draft_cli(seeds_dir / "000_6979e999bbdb2828.txt", capsys)
    assert len(list(yaml.safe_load_all(out))) == 2
    (tmp_path / "gz.yaml").write_text(out, encoding="utf-8")
    code, report = kb_check(tmp_path, capsys)
    assert code == 1 and "一个文件只能有一份通知" in report


def test_the_draft_benchmark_prints_the_recall_table_and_meets_the_targets(seeds_dir, capsys):
    code = bench_draft(["--seeds", str(seeds_dir)])
    out = capsys.readouterr().out
    assert code == 0, out
    for heading in ("文号", "日期", "相对期限", "职业名单", "电话", "合计", "达标"):
        assert heading in out
    assert "001_4aab3fcd64cbda8b.txt" in out and "全部达标" in out


def test_a_placeholder_left_in_a_draft_is_an_error_even_without_review_marks() -> None:
    import yaml

    from knowledge.loader import NOTICES_DIR, _Loader, validate_mapping

    data = yaml.load((NOTICES_DIR / "gz-2017-145.yaml").read_text(encoding="utf-8"), Loader=_Loader)  # noqa: S506
    assert validate_mapping("gz.yaml", data)[1] == [], "the shipped file is clean"
    contact = next(f for f in data["facts"] if f["kind"] == "contact")
    contact["organization"] = "（待填写）"
    notice, problems = validate_mapping("gz.yaml", data)
    assert notice is None and any("占位" in str(p) and "（待填写）" in str(p) for p in problems)
    contact["organization"] = "广州市职业技能鉴定指导中心"
    contact["source"] = {"clause": "三", "quote": "报名时间（待填写）以原文为准"}
    assert validate_mapping("gz.yaml", data)[1] == [], "the notice's own words are quoted as they are"
