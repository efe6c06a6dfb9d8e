"""The fields of a fact that depend on its kind (a list's members, a contact's phones and address, a
form's name and fields) on the draft page, for facts the draft found and facts staff add by hand."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from starlette.datastructures import FormData

from bot.console.forms import form_text

KIND_LABELS = {
    "event": "事件",
    "deadline": "截止期限",
    "rule": "规定",
    "contact": "联系方式",
    "form": "表格",
    "occupation_list": "职业名单",
}
DATED_KINDS = ("event", "deadline")
"""Kinds a reviewer may switch between: both hold dates and an action, so nothing is lost."""
_SPLIT = re.compile(r"[,，、;；\n]+")


def split_list(value: str) -> list[str]:
    return [part.strip() for part in _SPLIT.split(value) if part.strip()]


def set_value(target: dict[str, Any], key: str, value: Any) -> None:
    """Sets a key, or removes it when the value is empty (the schema's default then applies)."""
    if value in (None, "", []):
        target.pop(key, None)
    else:
        target[key] = value


def number_of(value: str) -> int | str | None:
    if not value:
        return None
    return int(value) if value.isdigit() else value


def kind_fields(fact: Mapping[str, Any]) -> dict[str, Any]:
    """What the page shows in the kind's own fields, as the reviewer types it back."""
    return {
        "members": "、".join(fact.get("occupations") or []),
        "stated_count": fact.get("stated_count") if fact.get("stated_count") is not None else "",
        "organization": fact.get("organization") or "",
        "address": fact.get("address") or "",
        "phones": "、".join(str(p.get("number")) for p in fact.get("phones") or []),
        "form_name": fact.get("name") or "",
        "form_fields": "、".join(str(f.get("label")) for f in fact.get("fields") or []),
    }


def apply_kind_fields(form: FormData, p: str, fact: dict[str, Any]) -> None:
    """The kind's own fields of fact `p` from the form; a field not on the form is left alone."""
    kind = fact.get("kind")
    if kind == "occupation_list" and f"{p}_members" in form:
        members = split_list(form_text(form, f"{p}_members", limit=4000))
        fact["occupations"] = members
        set_value(fact, "stated_count", number_of(form_text(form, f"{p}_stated_count", limit=6)))
    if kind == "contact":
        for key, limit in (("organization", 200), ("address", 300)):
            if f"{p}_{key}" in form:
                set_value(fact, key, form_text(form, f"{p}_{key}", limit=limit) or None)
        if f"{p}_phones" in form:
            typed = split_list(form_text(form, f"{p}_phones", limit=200))
            old = {str(x.get("number")): x for x in fact.get("phones") or []}
            set_value(fact, "phones", [old.get(n, {"number": n}) for n in typed])
    if kind == "form":
        if f"{p}_form_name" in form:
            fact["name"] = form_text(form, f"{p}_form_name", limit=200)
        if f"{p}_form_fields" in form:
            old_fields = {str(x.get("label")): x for x in fact.get("fields") or []}
            typed = split_list(form_text(form, f"{p}_form_fields", limit=2000))
            set_value(fact, "fields", [old_fields.get(label, {"label": label}) for label in typed])


NEW_KINDS = ("deadline", "event", "rule", "contact", "occupation_list", "form")
"""Kinds staff can add to a draft by hand (补充起草漏掉的条目)."""


def added_fact(form: FormData, data: Mapping[str, Any]) -> dict[str, Any] | None:
    """The fact the draft page's 补充 fields describe, or None when they are left empty."""
    kind = form_text(form, "new_kind", limit=20)
    title = form_text(form, "new_title", limit=300)
    answer = form_text(form, "new_answer", limit=4000)
    if kind not in NEW_KINDS or not (title or answer):
        return None
    taken = {str(f.get("id")) for f in data.get("facts") or []}
    prefix = next((str(i).split(".")[0] for i in taken if "." in str(i)), "draft")
    number = next(n for n in range(1, 10_000) if f"{prefix}.added-{n}" not in taken)
    fact: dict[str, Any] = {
        "id": f"{prefix}.added-{number}",
        "kind": kind,
        "title": title or answer[:40],
        "topic": title[:20] or KIND_LABELS[kind],
        "answer": answer or title,
        "source": {
            "clause": form_text(form, "new_clause", limit=40) or "人工补充",
            "quote": form_text(form, "new_quote", limit=2000) or answer or title,
        },
    }
    if kind in DATED_KINDS:
        fact["action"] = title or answer[:40]
        amount = form_text(form, "new_amount", limit=6)
        when: dict[str, Any]
        if amount:
            when = {"kind": "relative", "amount": number_of(amount)}
            for name in ("unit", "direction", "anchor"):
                set_value(when, name, form_text(form, f"new_{name}", limit=100) or None)
        elif form_text(form, "new_start", limit=20) or form_text(form, "new_end", limit=20):
            when = {"kind": "range"}
            for name in ("start", "start_time", "end", "end_time"):
                set_value(when, name, form_text(form, f"new_{name}", limit=20) or None)
        else:
            when = {"kind": "date", "bound": form_text(form, "new_bound", limit=4) or "by"}
            for name in ("date", "time"):
                set_value(when, name, form_text(form, f"new_{name}", limit=20) or None)
            when.setdefault("date", None)  # left empty: validation names the missing date
        fact["dates"] = [when]
    if kind == "occupation_list":
        fact["status"] = "other"
        fact["occupations"] = split_list(form_text(form, "new_members", limit=4000))
        set_value(fact, "stated_count", number_of(form_text(form, "new_stated_count", limit=6)) or None)
    if kind == "form":
        fact["name"] = form_text(form, "new_form_name", limit=200) or title
        fields = split_list(form_text(form, "new_form_fields", limit=2000))
        if fields:
            fact["fields"] = [{"label": label} for label in fields]
    if kind == "contact":
        set_value(fact, "address", form_text(form, "new_address", limit=300) or None)
        fact["organization"] = form_text(form, "new_organization", limit=200) or data.get("issuer") or ""
        phones = split_list(form_text(form, "new_phones", limit=200))
        if phones:
            fact["phones"] = [{"number": p} for p in phones]
    return fact
