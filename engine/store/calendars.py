"""The working-day tables an administrator loaded (table `calendar_years`): stored, and read as a calendar."""

from __future__ import annotations

from datetime import date, tzinfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.base import clock
from engine.base.workdays import CHINA, WorkingDayCalendar, YearTable
from engine.store.models import CalendarYear


def load_year(session: Session, table: YearTable, by: str) -> CalendarYear:
    """Store (or replace) an administrator's table for one year; it overrides the package's."""
    row = session.get(CalendarYear, table.year) or CalendarYear(year=table.year)
    row.holidays = sorted(d.isoformat() for d in table.holidays)
    row.workdays = sorted(d.isoformat() for d in table.workdays)
    row.loaded_at = clock.now()
    row.loaded_by = by
    session.add(row)
    return row


def calendar_from_db(session: Session, tz: tzinfo = CHINA) -> WorkingDayCalendar:
    """The calendar in force: the package's tables overridden by every loaded year."""
    loaded = {
        row.year: YearTable(row.year, frozenset(map(date.fromisoformat, row.holidays)),
                            frozenset(map(date.fromisoformat, row.workdays)))
        for row in session.scalars(select(CalendarYear))
    }
    return WorkingDayCalendar(loaded, tz)
