#!/usr/bin/env python3
"""Sanity checks for the fresh corpus in out/: YAML parses, keys and kinds are
as in CONVENTIONS.md / EXAMPLE, dates are real, verbatim fields occur in the
text, and notice lengths are within 350-1500 characters."""

import datetime as dt
import re
import sys
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
TOP = ["doc_no", "issuer", "issued", "title", "regions", "cites", "facts"]
KIND_KEYS = {
    "date": {"what", "date", "time"},
    "period": {"what", "start", "end", "start_time", "end_time"},
    "month": {"what", "year", "from_month", "to_month"},
    "relative": {"what", "amount", "unit", "direction", "anchor"},
    "list": {"what", "members", "stated_count"},
    "rule": {"what"},
    "fee": {"what", "amount", "unit"},
    "form": {"name"},
    "contact": {"who", "phone"},
    "venue": {"organisation", "address"},
    "refund_rule": {"who", "deadline", "how", "consequence"},
}
UNITS = {"元/人", "元/人·次", "元/人·科", "元/人·科次", "元/人·项目", "元/人·职业（等级）"}
REL_UNITS = {"days", "working_days"}
DOCNO = re.compile(r"[\u4e00-\u9fff]{1,8}[〔\[（【［(]\d{4}[〕\]）】］)]\d+号")
HAN = re.compile(r"[\u4e00-\u9fff]")

errors = []


def err(f, msg):
    errors.append(f"{f}: {msg}")


def as_date(v):
    if isinstance(v, dt.date):
        return v
    try:
        return dt.date.fromisoformat(str(v))
    except ValueError:
        return None


def in_range(d):
    return d is not None and dt.date(2021, 1, 1) <= d <= dt.date(2027, 12, 31)


def check_time(f, v, what):
    if v is None:
        return
    if not (isinstance(v, str) and re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", v)):
        err(f, f"bad time {v!r} in {what}")


def squash(s):
    return re.sub(r"\s+", "", s)


files = sorted([*HERE.glob("dev/[0-9][0-9].txt"), *HERE.glob("heldout/[0-9][0-9].txt")])
if len(files) != 12:
    err("out", f"expected 12 notices, found {len(files)}")

for txt in files:
    f = txt.name
    text = txt.read_text(encoding="utf-8")
    flat = squash(text)
    n_all = len(flat)
    n_han = len(HAN.findall(text))
    if not (350 <= n_han and n_all <= 1500):
        err(f, f"length out of range: {n_han} Han chars, {n_all} non-space chars")
    yml = txt.with_suffix(".expected.yaml")
    try:
        data = yaml.safe_load(yml.read_text(encoding="utf-8"))
    except Exception as e:  # noqa: BLE001
        err(yml.name, f"YAML does not parse: {e}")
        continue
    if list(data) != TOP:
        err(yml.name, f"top-level keys {list(data)} != {TOP}")
    # top level
    if data["doc_no"] is not None and data["doc_no"] not in text:
        err(yml.name, f"doc_no not in text: {data['doc_no']}")
    if data["issuer"] not in text:
        err(yml.name, f"issuer not in text: {data['issuer']}")
    if data["issued"] is not None and not in_range(as_date(data["issued"])):
        err(yml.name, f"issued not a real 2021-2027 date: {data['issued']}")
    if squash(data["title"]) not in flat:
        err(yml.name, "title (lines joined) not in text")
    for c in data["cites"]:
        if c not in text:
            err(yml.name, f"cite not in text: {c}")
    # every document number in the text is either doc_no or cited
    for m in {mm.group(0) for mm in DOCNO.finditer(text)}:
        if m != data["doc_no"] and not any(m.endswith(c) or c.endswith(m) for c in data["cites"]):
            err(yml.name, f"document number in text not cited: {m}")
    # facts
    for i, fact in enumerate(data["facts"]):
        k = fact.get("kind")
        tag = f"fact {i} ({k})"
        if k not in KIND_KEYS:
            err(yml.name, f"{tag}: unknown kind")
            continue
        keys = set(fact) - {"kind"}
        if keys != KIND_KEYS[k]:
            err(yml.name, f"{tag}: keys {sorted(keys)} != {sorted(KIND_KEYS[k])}")
        if k == "date":
            if not in_range(as_date(fact["date"])):
                err(yml.name, f"{tag}: bad date {fact['date']}")
            check_time(yml.name, fact["time"], tag)
        elif k == "period":
            a, b = as_date(fact["start"]), as_date(fact["end"])
            if not (in_range(a) and in_range(b)) or a > b:
                err(yml.name, f"{tag}: bad period {fact['from']}..{fact['to']}")
            check_time(yml.name, fact["start_time"], tag)
            check_time(yml.name, fact["end_time"], tag)
            if a == b and fact["start_time"] and fact["end_time"] and fact["start_time"] >= fact["end_time"]:
                err(yml.name, f"{tag}: times not increasing")
        elif k == "month":
            if not (2021 <= fact["year"] <= 2027 and 1 <= fact["from_month"] <= fact["to_month"] <= 12):
                err(yml.name, f"{tag}: bad month range")
        elif k == "relative":
            if fact["unit"] not in REL_UNITS or fact["direction"] not in {"within", "before"}:
                err(yml.name, f"{tag}: bad unit/direction")
            if not isinstance(fact["amount"], int) or str(fact["amount"]) not in text:
                err(yml.name, f"{tag}: amount not in text")
            if squash(fact["anchor"]) not in flat:
                err(yml.name, f"{tag}: anchor not verbatim: {fact['anchor']}")
        elif k == "list":
            for m in fact["members"]:
                if str(m) not in text:
                    err(yml.name, f"{tag}: member not in text: {m}")
            sc = fact["stated_count"]
            if sc is not None and sc < len(fact["members"]):
                err(yml.name, f"{tag}: stated_count smaller than members")
        elif k == "fee":
            if fact["unit"] not in UNITS:
                err(yml.name, f"{tag}: unit not normalised: {fact['unit']}")
            if str(fact["amount"]) + "元" not in text:
                err(yml.name, f"{tag}: amount not in text: {fact['amount']}")
        elif k == "form":
            if f"《{fact['name']}》" not in text:
                err(yml.name, f"{tag}: form not in text as 《》: {fact['name']}")
        elif k == "contact":
            if not isinstance(fact["phone"], str) or fact["phone"] not in text:
                err(yml.name, f"{tag}: phone not verbatim: {fact['phone']!r}")
        elif k == "venue":
            for key in ("organisation", "address"):
                if fact[key] is not None and fact[key] not in text:
                    err(yml.name, f"{tag}: {key} not verbatim: {fact[key]}")
        elif k == "refund_rule":
            d = fact["deadline"]
            if d is not None and squash(d) not in flat:
                err(yml.name, f"{tag}: deadline not as written: {d}")
    # each 《》 name that looks like a form should be listed
    forms = {fa["name"] for fa in data["facts"] if fa.get("kind") == "form"}
    for m in re.findall(r"《([^《》]+)》", text):
        if re.search(r"(表|书|名单|声明)$", m) and m not in forms:
            err(yml.name, f"《{m}》 looks like a form but is not a form fact")
    # every phone-looking string in the text is a contact
    phones = {fa["phone"] for fa in data["facts"] if fa.get("kind") == "contact"}
    for m in re.findall(r"1[3-9]\d(?:[- ]?\d{4}){2}|\d{7,8}", text):
        if not any(m in p for p in phones):
            err(yml.name, f"phone-like {m} not among contacts")
    print(f"{f}: {n_han} Han chars, {n_all} chars, {len(data['facts'])} facts")

if errors:
    print("\n".join(errors))
    sys.exit(1)
print("OK")
