import datetime as dt

import pytest

from knowledge.workdays import holiday_name, shift_workdays

D = dt.date


@pytest.mark.parametrize(
    ("anchor", "amount", "direction", "expected"),
    [
        # The examples of the issue: National Day does not count; an adjusted Saturday does.
        (D(2026, 10, 9), 3, "before", D(2026, 9, 29)),
        (D(2026, 10, 12), 1, "before", D(2026, 10, 10)),
        # Dragon Boat Festival (Friday 2026-06-19) is skipped.
        (D(2026, 6, 22), 10, "before", D(2026, 6, 5)),
        # May Day 2026: 1–5 May off, Saturday 9 May worked.
        (D(2026, 5, 11), 7, "before", D(2026, 4, 28)),
        # Ordinary week: Friday minus 1 is Thursday; Monday minus 1 is the previous Friday.
        (D(2024, 3, 15), 1, "before", D(2024, 3, 14)),
        (D(2024, 3, 18), 1, "before", D(2024, 3, 15)),
        # After: 15 working days after an exam across Spring Festival 2025 (28 Jan – 4 Feb off,
        # Sunday 26 Jan and Saturday 8 Feb worked).
        (D(2025, 1, 20), 15, "after", D(2025, 2, 14)),
        (D(2026, 3, 2), 0, "before", D(2026, 3, 2)),
    ],
)
def test_shift_workdays_on_the_official_calendar(anchor, amount, direction, expected):
    result = shift_workdays(anchor, amount, direction)
    assert result.date == expected
    assert result.exact


def test_year_without_calendar_data_falls_back_to_weekends_and_says_so():
    result = shift_workdays(dt.date(2031, 3, 10), 3, "before")  # Monday
    assert result.date == dt.date(2031, 3, 5)  # Wed: Fri 7, Thu 6, Wed 5
    assert not result.exact
    assert result.uncovered_years == (2031,)


def test_bad_direction_is_refused():
    with pytest.raises(ValueError):
        shift_workdays(dt.date(2026, 1, 5), 1, "sideways")


def test_holiday_names_are_chinese():
    assert holiday_name(dt.date(2026, 10, 2)) == "国庆节"
    assert holiday_name(dt.date(2026, 10, 10)) is None  # an adjusted working Saturday
