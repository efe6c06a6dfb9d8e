"""`{name:rowid}` in console routes: a database row id, at most 18 digits.

Starlette's `int` convertor takes any number of digits, and a 20-digit id reached the database as an
integer no column holds (SQLite's OverflowError, PostgreSQL's out-of-range error): a 500 for what is
simply a page that does not exist. With at most 18 digits the route does not match, and it is a 404."""

from __future__ import annotations

from starlette.convertors import Convertor, register_url_convertor


class RowIdConvertor(Convertor[int]):
    regex = "[0-9]{1,18}"

    def convert(self, value: str) -> int:
        return int(value)

    def to_string(self, value: int) -> str:
        if not 0 <= value < 10**18:
            raise ValueError("a row id has at most 18 digits")
        return str(value)


register_url_convertor("rowid", RowIdConvertor())
