"""Working-day calendar for statutory time limits (行政许可法 art. 82).

A time limit of n working days starts counting the day *after* the event; weekends and
statutory holidays are skipped and make-up working days (调休, e.g. Sat 2026-02-14) count.
Each year's arrangement comes from the `chinesecalendar` package or, for years it does not
know yet (the State Council publishes next year's table around November), from a table an
administrator loads. A loaded table replaces the package's for its year. A year neither
source knows raises `UnknownYear`: never a silent Mon–Fri guess.

Administrator format (YAML), one file per year::

    year: 2027
    holidays:        # weekdays off (周一至周五放假的日子); weekend days of a holiday are implied
      - 2027-01-01
    workdays:        # weekend days worked (调休上班的周六、周日)
      - 2027-02-07

or CSV with a header, the year given separately (the optional third column is ignored)::

    date,kind,note
    2027-01-01,holiday,元旦
    2027-02-07,workday,春节调休

`kind` is `holiday`/`休` or `workday`/`班`. Every date must lie in the table's year, a
holiday must be a weekday and a make-up working day a weekend day (anything else changes
nothing and is most likely a typo), no date may appear twice, and a table must list at least
one holiday. Violations raise `CalendarTableInvalid`, whose `fields` name each offending entry.
"""

from __future__ import annotations

import csv
import io
import re
from bisect import bisect_right
from collections.abc import Callable, Iterable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import MAXYEAR, MINYEAR, date, datetime, time, timedelta, tzinfo
from functools import cache, cached_property
from time import monotonic
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

import chinese_calendar
import yaml

from engine.base.errors import TongbanError

CHINA = ZoneInfo("Asia/Shanghai")
END_OF_DAY = time(23, 59, 59)
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_KINDS = {"holiday": "holidays", "休": "holidays", "workday": "workdays", "班": "workdays"}
_BAD_KIND = "kind 应为 holiday/休 或 workday/班 (kind must be holiday/休 or workday/班)"
_WEEKDAYS = [("周一", "Monday"), ("周二", "Tuesday"), ("周三", "Wednesday"), ("周四", "Thursday"),
             ("周五", "Friday"), ("周六", "Saturday"), ("周日", "Sunday")]

Pause = tuple[date | datetime, date | datetime]


class UnknownYear(TongbanError):
    """No working-day table for a year: deadlines there cannot be computed until one is loaded."""

    code = "calendar_year_unknown"
    status = 503

    def __init__(self, year: int) -> None:
        super().__init__(f"{year} 年的工作日安排尚未载入，请管理员载入 "
                         f"(the working-day table for {year} is not loaded; an administrator must load it)")
        self.year = year


class CalendarTableInvalid(TongbanError):
    """An administrator's year table is malformed; `fields` maps each offending entry to its problems."""

    code = "calendar_table_invalid"
    status = 422

    def __init__(self, fields: dict[str, list[str]]) -> None:
        super().__init__(f"工作日安排表有 {len(fields)} 处错误 (the working-day table has {len(fields)} error(s))",
                         fields)


@dataclass(frozen=True)
class YearTable:
    """One year's arrangement: weekdays off (`holidays`) and weekend days worked (`workdays`)."""

    year: int
    holidays: frozenset[date]
    workdays: frozenset[date]

    def __post_init__(self) -> None:
        problems: dict[str, list[str]] = {}
        if not MINYEAR < self.year < MAXYEAR:
            problems["year"] = [f"年份 {self.year} 超出范围 (year {self.year} is out of range)"]
        for day in sorted(self.holidays | self.workdays):
            problem = self._problem(day)
            if problem:
                problems[day.isoformat()] = [problem]
        if not self.holidays:
            problems["holidays"] = ["年表没有任何节假日 (the table lists no holidays)"]
        if problems:
            raise CalendarTableInvalid(problems)

    def _problem(self, day: date) -> str | None:
        zh, en = _WEEKDAYS[day.weekday()]
        if day.year != self.year:
            return f"{day} 不在 {self.year} 年内 ({day} is not in {self.year})"
        if day in self.holidays and day in self.workdays:
            return f"{day} 同时列为节假日和调休上班日 ({day} is listed both as a holiday and as a workday)"
        if day in self.holidays and day.weekday() >= 5:
            return (f"{day} 是{zh}，本来就休息，列为节假日不改变任何安排，可能是笔误 "
                    f"({day} is a {en}, already a day off: listing it as a holiday changes nothing, "
                    "probably a typo)")
        if day in self.workdays and day.weekday() < 5:
            return (f"{day} 是{zh}，本来就是工作日，只有周末才能列为调休上班日 "
                    f"({day} is a {en}, already a working day: only weekend days can be make-up workdays)")
        return None

    @cached_property
    def working_ordinals(self) -> tuple[int, ...]:
        """Every working day of the year as a sorted `date.toordinal()`, so lookups can bisect."""
        first = date(self.year, 1, 1).toordinal()
        days = (date.fromordinal(o) for o in range(first, date(self.year + 1, 1, 1).toordinal()))
        return tuple(d.toordinal() for d in days if self.is_working_day(d))

    def is_working_day(self, day: date) -> bool:
        return day in self.workdays or (day.weekday() < 5 and day not in self.holidays)

    @classmethod
    def from_yaml(cls, text: str) -> YearTable:
        """Parse the administrator's YAML (see the module docstring)."""
        try:
            doc = yaml.load(text, Loader=TextDatesLoader)  # a SafeLoader
        except yaml.YAMLError as exc:
            raise CalendarTableInvalid({"yaml": [f"不是有效的 YAML (not valid YAML: {exc})"]}) from None
        if not isinstance(doc, dict):
            raise CalendarTableInvalid({"yaml": ["应为含 year/holidays/workdays 的映射 "
                                                 "(expected a mapping with year, holidays, workdays)"]})
        problems = {str(k): ["未知字段 (unknown field)"] for k in doc if k not in ("year", "holidays", "workdays")}
        for key in ("holidays", "workdays"):
            if not isinstance(doc.get(key, []), list):
                problems[key] = ["应为日期列表 (expected a list of dates)"]
        if problems:
            raise CalendarTableInvalid(problems)
        entries = [(f"{key}[{i}]", key, raw) for key in ("holidays", "workdays")
                   for i, raw in enumerate(doc.get(key) or [])]
        return cls._from_entries(doc.get("year"), entries)

    @classmethod
    def from_csv(cls, text: str, year: int) -> YearTable:
        """Parse `date,kind[,note]` rows (header required) for `year`; see the module docstring."""
        rows = csv.reader(io.StringIO(text.lstrip("\ufeff")))  # Excel writes a BOM
        header = [c.strip().lower() for c in next(rows, [])]
        if header[:2] != ["date", "kind"]:
            raise CalendarTableInvalid({"line 1": ["首行应为 date,kind (the first line must be the header date,kind)"]})
        entries: list[tuple[str, str, Any]] = []
        problems: dict[str, list[str]] = {}
        for number, row in enumerate(rows, start=2):
            if not any(c.strip() for c in row):
                continue
            kind = _KINDS.get(row[1].strip().lower()) if len(row) > 1 else None
            if kind is None:
                problems[f"line {number}"] = [_BAD_KIND]
            else:
                entries.append((f"line {number}", kind, row[0].strip()))
        if problems:
            raise CalendarTableInvalid(problems)
        return cls._from_entries(year, entries)

    @classmethod
    def _from_entries(cls, year: object, entries: Iterable[tuple[str, str, Any]]) -> YearTable:
        """Check syntax and duplicates per labelled entry, then build (which checks the rules)."""
        if not isinstance(year, int) or isinstance(year, bool):
            raise CalendarTableInvalid({"year": [f"年份应为整数 (year must be an integer, got {year!r})"]})
        problems: dict[str, list[str]] = {}
        seen: dict[date, str] = {}
        found: dict[str, set[date]] = {"holidays": set(), "workdays": set()}
        for label, kind, raw in entries:
            day = _parse_date(raw)
            if day is None:
                problems[label] = [f"“{raw}” 不是 YYYY-MM-DD 格式的日期 (“{raw}” is not a date YYYY-MM-DD)"]
            elif day in seen:
                problems[label] = [f"{day} 重复，已见于 {seen[day]} ({day} is a duplicate of {seen[day]})"]
            else:
                seen[day] = label
                found[kind].add(day)
        if problems:
            raise CalendarTableInvalid(problems)
        return cls(year, frozenset(found["holidays"]), frozenset(found["workdays"]))


class TextDatesLoader(yaml.SafeLoader):
    """Leaves dates as strings, so that a bad one (2027-02-30) is reported per entry instead of crashing."""

    yaml_implicit_resolvers: ClassVar = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }


def _parse_date(raw: object) -> date | None:
    if isinstance(raw, str) and _ISO_DATE.fullmatch(raw.strip()):
        try:
            return date.fromisoformat(raw.strip())
        except ValueError:
            return None
    return None


@cache
def library_table(year: int) -> YearTable | None:
    """The `chinesecalendar` package's table for `year`, or None if it does not know the year.

    Built once per year and process: the package answers per day and raises for unknown years.
    """
    try:
        chinese_calendar.is_workday(date(year, 1, 1))
    except NotImplementedError:
        return None
    days = [date(year, 1, 1) + timedelta(i) for i in range(366)]
    days = [d for d in days if d.year == year]
    holidays = frozenset(d for d in days if d.weekday() < 5 and not chinese_calendar.is_workday(d))
    workdays = frozenset(d for d in days if d.weekday() >= 5 and chinese_calendar.is_workday(d))
    return YearTable(year, holidays, workdays)


def library_years() -> range:
    """The years the installed `chinesecalendar` knows (it covers one contiguous range)."""
    first, last = (d.year for d in (min(chinese_calendar.holidays), max(chinese_calendar.holidays)))
    return range(first, last + 1)


class WorkingDayCalendar:
    """Working-day arithmetic over the package's tables plus administrator-loaded years.

    Dates are local dates; an aware datetime is first converted to the calendar's zone
    (naive datetimes are refused: which day they mean is a guess).

    Pauses: a pause `(p, r)` stops the clock for the days in (p, r] — the day the clock
    stops (e.g. the 补正 notice is issued) still counts, the day it restarts (the applicant
    supplies the materials) does not, because counting restarts the day after that event.
    Overlapping pauses are merged; parts outside the counted span are ignored.
    """

    def __init__(self, loaded: dict[int, YearTable] | None = None, tz: tzinfo = CHINA) -> None:
        self.loaded = dict(loaded or {})
        self.tz = tz

    def table(self, year: int) -> YearTable:
        """The table in force for `year`: the loaded one if any, else the package's."""
        found = self.loaded.get(year) or library_table(year)
        if found is None:
            raise UnknownYear(year)
        return found

    def is_working_day(self, day: date | datetime) -> bool:
        local = self._local(day)
        return self.table(local.year).is_working_day(local)

    def add_working_days(self, start: date | datetime, n: int, pauses: Sequence[Pause] = ()) -> date:
        """The due date of an n-working-day limit from `start`: n=1 is the next working day, n=0 `start`."""
        if n < 0:
            raise ValueError(f"n must not be negative, got {n}")
        cursor, remaining = self._local(start), n
        for p, r in self._merged(pauses):
            if r <= cursor:
                continue
            available = self._count(cursor, max(p, cursor))
            if remaining <= available:
                break
            remaining -= available
            cursor = r
        return self._nth_after(cursor, remaining)

    def working_days_between(self, a: date | datetime, b: date | datetime, pauses: Sequence[Pause] = ()) -> int:
        """Working days in (a, b] outside pauses; negative when b < a (e.g. days overdue)."""
        a, b = self._local(a), self._local(b)
        if b < a:
            return -self.working_days_between(b, a, pauses)
        paused = sum(self._count(max(p, a), min(r, b)) for p, r in self._merged(pauses) if max(p, a) < min(r, b))
        return self._count(a, b) - paused

    def due_at(self, start: datetime, n: int, tz: str | tzinfo | None = None,
               pauses: Sequence[Pause] = ()) -> datetime:
        """The last second (23:59:59 local) of the due working day: citizens get a date, timers an instant."""
        zone = ZoneInfo(tz) if isinstance(tz, str) else tz or self.tz
        day = WorkingDayCalendar(self.loaded, zone).add_working_days(start, n, pauses)  # same tables, other zone
        return datetime.combine(day, END_OF_DAY, tzinfo=zone)

    def _local(self, value: date | datetime) -> date:
        if not isinstance(value, datetime):
            return value
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value} is ambiguous; pass an aware datetime or a date")
        return value.astimezone(self.tz).date()

    def _merged(self, pauses: Sequence[Pause]) -> list[tuple[date, date]]:
        """Local, sorted, non-overlapping pauses; a pause ending before it starts is a caller error."""
        result: list[tuple[date, date]] = []
        for p, r in sorted((self._local(p), self._local(r)) for p, r in pauses):
            if r < p:
                raise ValueError(f"pause ends ({r}) before it starts ({p})")
            if result and p <= result[-1][1]:
                result[-1] = (result[-1][0], max(r, result[-1][1]))
            else:
                result.append((p, r))
        return result

    def _nth_after(self, start: date, n: int) -> date:
        """The n-th working day after `start`, bisecting each year's precomputed working days."""
        if n == 0:
            return start
        ordinal, year = start.toordinal(), (start + timedelta(1)).year  # the start's own year may be unknown
        while True:
            days = self.table(year).working_ordinals
            index = bisect_right(days, ordinal) + n - 1
            if index < len(days):
                return date.fromordinal(days[index])
            n = index - len(days) + 1
            year += 1

    def _count(self, a: date, b: date) -> int:
        """Working days in (a, b] for a <= b; only the years that span touches must be known."""
        if b <= a:
            return 0
        lo, hi = a.toordinal(), b.toordinal()
        total = 0
        for year in range((a + timedelta(1)).year, b.year + 1):
            days = self.table(year).working_ordinals
            total += bisect_right(days, hi) - bisect_right(days, lo)
        return total


class CalendarSource:
    """The calendar scripts and timers use: the database's tables, re-read at most every `ttl` seconds.

    Several processes (web, workers) each keep one; a year an administrator loads reaches all of them
    within `ttl` without a query per expression.
    """

    def __init__(self, load: Callable[[], WorkingDayCalendar], ttl: float = 60.0) -> None:
        self._load, self._ttl = load, ttl
        self._calendar: WorkingDayCalendar | None = None
        self._loaded_at = float("-inf")

    def get(self) -> WorkingDayCalendar:
        if self._calendar is None or monotonic() - self._loaded_at > self._ttl:
            self._calendar, self._loaded_at = self._load(), monotonic()
        return self._calendar

    def refresh(self) -> None:
        self._calendar = None


#: outside any runtime: the package's tables only (a runtime enters its own source, which reads its database)
PACKAGE_ONLY = CalendarSource(WorkingDayCalendar, ttl=float("inf"))
CURRENT: ContextVar[CalendarSource] = ContextVar("tongban_calendar", default=PACKAGE_ONLY)


def current() -> WorkingDayCalendar:
    """The calendar the code running now counts with: its runtime's (engine/runtime/context.py)."""
    return CURRENT.get().get()


def refresh() -> None:
    """After an administrator loads a year: this runtime sees it at once (other processes within their ttl)."""
    CURRENT.get().refresh()

