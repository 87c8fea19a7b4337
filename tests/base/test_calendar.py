"""Working-day maths pinned on the official 2026 arrangement (国办发明电〔2025〕7号), loading and storage."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest
from sqlalchemy import inspect

from engine.base.workdays import (
    CalendarTableInvalid,
    UnknownYear,
    WorkingDayCalendar,
    YearTable,
    library_table,
    library_years,
)
from engine.store.calendars import calendar_from_db, load_year
from engine.store.db import Database

CAL = WorkingDayCalendar()
D = date.fromisoformat

# Invented tables (not the State Council's): only their shape matters here.
YAML_2027 = """
year: 2027
holidays: [2027-01-01, 2027-02-08, 2027-02-09, 2027-02-10, 2027-02-11, 2027-02-12]
workdays: [2027-02-06, 2027-02-20]
"""
YAML_2031 = "year: 2031\nholidays: [2031-01-01, 2031-01-02]\nworkdays: ['2031-01-04']\n"


def test_library_2026_spring_festival_matches_the_state_council() -> None:
    for offset in range(9):  # 2026-02-15 (Sun) .. 2026-02-23 (Mon): 9 days off
        assert not CAL.is_working_day(D("2026-02-15") + timedelta(offset))
    assert CAL.is_working_day(D("2026-02-14"))  # Saturday, 调休
    assert CAL.is_working_day(D("2026-02-28"))  # Saturday, 调休
    assert CAL.is_working_day(D("2026-02-24"))
    assert not CAL.is_working_day(D("2026-03-07"))  # an ordinary Saturday


def test_library_knows_2004_to_at_least_2026() -> None:
    years = library_years()
    assert years.start == 2004 and 2026 in years
    assert library_table(years.stop) is None
    with pytest.raises(UnknownYear):
        CAL.is_working_day(date(years.stop, 6, 1))


def test_calendar_agrees_with_the_library_on_every_known_day() -> None:
    first, last = date(library_years().start, 1, 1), date(library_years().stop - 1, 12, 31)
    for offset in range((last - first).days + 1):
        day = first + timedelta(offset)
        assert CAL.is_working_day(day) == chinese_calendar.is_workday(day), day


def test_five_working_days_after_friday_before_spring_festival() -> None:
    # Hand count from Fri 2026-02-13 (the event day itself does not count):
    #   Sat 02-14 调休 → 1; Sun 02-15 .. Mon 02-23 春节 → skipped;
    #   Tue 02-24 → 2, Wed 02-25 → 3, Thu 02-26 → 4, Fri 02-27 → 5.
    assert CAL.add_working_days(D("2026-02-13"), 5) == D("2026-02-27")
    assert CAL.add_working_days(D("2026-02-13"), 6) == D("2026-02-28")  # Sat 调休
    assert CAL.add_working_days(D("2026-02-13"), 7) == D("2026-03-02")  # Sun 03-01 skipped
    assert CAL.working_days_between(D("2026-02-13"), D("2026-02-27")) == 5


def test_counting_starts_the_day_after_and_n_zero_is_the_start() -> None:
    assert CAL.add_working_days(D("2026-03-02"), 1) == D("2026-03-03")  # Mon → Tue
    assert CAL.add_working_days(D("2026-03-06"), 1) == D("2026-03-09")  # Fri → Mon
    assert CAL.add_working_days(D("2026-03-07"), 1) == D("2026-03-09")  # event on a Saturday
    assert CAL.add_working_days(D("2026-03-07"), 0) == D("2026-03-07")
    with pytest.raises(ValueError):
        CAL.add_working_days(D("2026-03-02"), -1)


def test_working_days_between_is_half_open_and_signed() -> None:
    assert CAL.working_days_between(D("2026-03-02"), D("2026-03-02")) == 0
    assert CAL.working_days_between(D("2026-03-06"), D("2026-03-09")) == 1
    assert CAL.working_days_between(D("2026-02-27"), D("2026-02-13")) == -5  # e.g. 5 days overdue


def test_aware_datetimes_count_in_local_time_and_naive_ones_are_refused() -> None:
    late_friday_utc = datetime(2026, 2, 13, 20, 0, tzinfo=UTC)  # already Sat 02-14 04:00 in Qingdao
    assert CAL.add_working_days(late_friday_utc, 1) == D("2026-02-24")
    with pytest.raises(ValueError):
        CAL.add_working_days(datetime(2026, 2, 13, 20, 0), 1)


def test_due_at_is_the_end_of_the_due_day_in_local_time() -> None:
    due = CAL.due_at(datetime(2026, 2, 13, 1, 0, tzinfo=UTC), 5)
    assert due == datetime(2026, 2, 27, 23, 59, 59, tzinfo=ZoneInfo("Asia/Shanghai"))
    assert due.astimezone(UTC) == datetime(2026, 2, 27, 15, 59, 59, tzinfo=UTC)
    assert CAL.due_at(datetime(2026, 2, 13, 20, 0, tzinfo=UTC), 1, tz="UTC") == datetime(
        2026, 2, 14, 23, 59, 59, tzinfo=ZoneInfo("UTC"))  # still Friday in UTC


def test_crossing_into_2027_needs_the_2027_table() -> None:
    assert CAL.add_working_days(D("2026-12-28"), 3) == D("2026-12-31")  # stays in 2026: no 2027 needed
    if 2027 in library_years():  # a newer chinesecalendar: verify its 2027 table, then pin it here
        assert CAL.is_working_day(CAL.add_working_days(D("2026-12-31"), 1))
    else:
        with pytest.raises(UnknownYear) as caught:
            CAL.add_working_days(D("2026-12-31"), 1)
        assert caught.value.message.startswith("2027 年的工作日安排尚未载入")
        assert caught.value.year == 2027
    loaded = WorkingDayCalendar({2027: YearTable.from_yaml(YAML_2027)})
    assert loaded.add_working_days(D("2026-12-31"), 1) == D("2027-01-04")  # Jan 1 holiday, then weekend
    assert loaded.working_days_between(D("2026-12-30"), D("2027-01-04")) == 2


def test_a_loaded_far_year_works_and_a_loaded_year_overrides_the_library() -> None:
    with pytest.raises(UnknownYear):
        CAL.add_working_days(D("2031-01-01"), 1)
    cal = WorkingDayCalendar({2031: YearTable.from_yaml(YAML_2031)})
    assert cal.add_working_days(D("2030-12-31"), 1) == D("2031-01-03")  # Fri; Wed 01-01, Thu 01-02 off
    assert cal.add_working_days(D("2031-01-03"), 1) == D("2031-01-04")  # Sat 调休
    override = WorkingDayCalendar({2026: YearTable(2026, frozenset({D("2026-01-01")}), frozenset())})
    assert override.is_working_day(D("2026-02-16"))  # Spring Festival gone in the override
    assert not override.is_working_day(D("2026-02-14"))  # and so is its 调休 Saturday


def test_csv_loading() -> None:
    text = "\ufeffdate,kind,note\n2027-01-01,holiday,元旦\n\n2027-02-06,班,春节调休\n2027-02-08,休,\n"
    table = YearTable.from_csv(text, 2027)
    assert table.holidays == {D("2027-01-01"), D("2027-02-08")}
    assert table.workdays == {D("2027-02-06")}


@pytest.mark.parametrize(
    ("text", "entry", "words"),
    [
        ("year: 2027\nholidays: [2027-01-01, 2027-01-02]", "2027-01-02", "Saturday"),
        ("year: 2027\nholidays: [2027-01-01]\nworkdays: [2027-02-08]", "2027-02-08", "Monday"),
        ("year: 2027\nholidays: [2027-01-01, 2026-12-31]", "2026-12-31", "not in 2027"),
        ("year: 2027\nholidays: [2027-01-01, 2027-02-08, 2027-01-01]", "holidays[2]", "duplicate of holidays[0]"),
        ("year: 2027\nholidays: [2027-01-01]\nworkdays: [2027-01-01]", "workdays[0]", "duplicate of holidays[0]"),
        ("year: 2027\nholidays: [2027-01-01, '2027-1-4']", "holidays[1]", "not a date"),
        ("year: 2027\nholidays: [2027-02-30]", "holidays[0]", "not a date"),
        ("year: 2027\nholiday: [2027-01-01]", "holiday", "unknown field"),
        ("year: 2027\nworkdays: [2027-02-06]", "holidays", "no holidays"),
        ("year: '2027'\nholidays: [2027-01-01]", "year", "integer"),
        ("year: 2027\nholidays: 2027-01-01", "holidays", "list"),
        ("- 2027-01-01", "yaml", "mapping"),
        ("year: [2027", "yaml", "not valid YAML"),
    ],
)
def test_yaml_validation_names_the_offending_entry(text: str, entry: str, words: str) -> None:
    with pytest.raises(CalendarTableInvalid) as caught:
        YearTable.from_yaml(text)
    assert words in " ".join(caught.value.fields[entry])
    assert caught.value.message.startswith("工作日安排表有")


@pytest.mark.parametrize(
    ("text", "entry", "words"),
    [
        ("day,kind\n2027-01-01,holiday\n", "line 1", "header"),
        ("date,kind\n2027-01-01,holiday\n2027-01-04,vacation\n", "line 3", "kind must be"),
        ("date,kind\n2027-01-01,holiday\n2027-01-01,休\n", "line 3", "duplicate of line 2"),
        ("date,kind\n2027-01-01,holiday\n2027-01-02,holiday\n", "2027-01-02", "Saturday"),
    ],
)
def test_csv_validation_names_the_offending_entry(text: str, entry: str, words: str) -> None:
    with pytest.raises(CalendarTableInvalid) as caught:
        YearTable.from_csv(text, 2027)
    assert words in " ".join(caught.value.fields[entry])


def test_a_correction_pause_extends_the_due_date_by_the_working_days_paused() -> None:
    # 5 working days from Fri 2026-03-06: Mon 09 → 1 … Fri 13 → 5.
    assert CAL.add_working_days(D("2026-03-06"), 5) == D("2026-03-13")
    # 补正 notice issued Tue 03-10 (counts), materials back Thu 03-12 (does not): Wed 11 and Thu 12 are
    # paused, so 09 → 1, 10 → 2, 13 → 3, Mon 16 → 4, Tue 17 → 5.
    pause = (D("2026-03-10"), D("2026-03-12"))
    assert CAL.working_days_between(*pause) == 2
    assert CAL.add_working_days(D("2026-03-06"), 5, [pause]) == D("2026-03-17")
    assert CAL.add_working_days(D("2026-03-13"), 2) == D("2026-03-17")
    assert CAL.working_days_between(D("2026-03-06"), D("2026-03-17"), [pause]) == 5


def test_pauses_are_merged_clipped_and_checked() -> None:
    start = D("2026-03-06")
    overlapping = [(D("2026-03-11"), D("2026-03-12")), (D("2026-03-10"), D("2026-03-11"))]
    assert CAL.add_working_days(start, 5, overlapping) == D("2026-03-17")
    assert CAL.add_working_days(start, 5, [(D("2026-03-01"), D("2026-03-05"))]) == D("2026-03-13")  # before
    assert CAL.add_working_days(start, 5, [(D("2026-03-04"), D("2026-03-09"))]) == D("2026-03-16")  # straddles
    assert CAL.add_working_days(start, 5, [(D("2026-03-13"), D("2026-03-20"))]) == D("2026-03-13")  # after due
    assert CAL.add_working_days(start, 0, [(D("2026-03-01"), D("2026-03-20"))]) == start
    with pytest.raises(ValueError):
        CAL.add_working_days(start, 5, [(D("2026-03-12"), D("2026-03-10"))])


@pytest.mark.parametrize("n", [1, 3, 5, 20])
def test_paused_due_dates_match_a_day_by_day_count(n: int) -> None:
    """Brute force over the Spring Festival: the due day is the n-th working day outside the pauses."""
    start = D("2026-02-02")
    for p_offset in range(0, 30, 3):
        pauses = [(start + timedelta(p_offset), start + timedelta(p_offset + 4))]
        day, counted = start, 0
        while counted < n:
            day += timedelta(1)
            paused = any(p < day <= r for p, r in pauses)
            counted += CAL.is_working_day(day) and not paused
        assert CAL.add_working_days(start, n, pauses) == day, pauses
        assert CAL.working_days_between(start, day, pauses) == n


def test_the_migration_creates_the_table(db: Database) -> None:
    columns = {c["name"] for c in inspect(db.engine).get_columns("calendar_years")}
    assert columns == {"year", "holidays", "workdays", "loaded_at", "loaded_by"}


def test_loaded_years_round_trip_through_the_database(db: Database) -> None:
    with db.write() as session:
        load_year(session, YearTable.from_yaml("year: 2027\nholidays: [2027-01-01]"), by="admin")
    with db.write() as session:  # a reload replaces the year's table
        load_year(session, YearTable.from_yaml(YAML_2027), by="admin2")
        load_year(session, YearTable.from_yaml(YAML_2031), by="admin2")
    with db.read() as session:
        cal = calendar_from_db(session)
    assert cal.loaded[2027] == YearTable.from_yaml(YAML_2027)
    assert set(cal.loaded) == {2027, 2031}
    assert cal.add_working_days(D("2026-12-31"), 1) == D("2027-01-04")
    assert cal.add_working_days(D("2027-02-05"), 1) == D("2027-02-06")  # Sat 调休 from the stored table
    assert cal.add_working_days(D("2026-02-13"), 5) == D("2026-02-27")  # 2026 still from the library
