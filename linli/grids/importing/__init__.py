"""Import of buildings, households and residents from .xlsx or .csv (README "Import columns").

One service, `registry_import`. The rules: every bad row is reported (row as the spreadsheet
shows it, column, reason in Chinese and English) and nothing is written unless every row is
good; importing the same file again changes nothing (buildings match on (building group,
name), households on (building, room), residents on the keyed hash of their ID number).

It is built for a million rows (bench/import_residents.py):
- the file is parsed as a stream and validated in plain Python, never through model
  `full_clean`;
- existing buildings and households of the importer's scope are loaded once; existing
  residents are looked up per batch by hash (skipped when the table was empty);
- on PostgreSQL new residents go straight into their table with COPY, one batch at a time,
  through psycopg's queued writer thread; on SQLite the same plan runs with `executemany`
  (`writers`).
Everything happens in one transaction; rows after the first bad one are still validated
(to report them all) but no longer written, and the transaction is rolled back.

The modules, in the order a file goes through them:

- `limits`: the upload's limits, checked before anything parses the file;
- `columns`: the columns and the words each accepts;
- `reading`: the rows of a .csv or an .xlsx, as a stream;
- `validation`: each row checked and converted;
- `households`: building group code, building and room resolved to a household;
- `writers`: the database writes, one writer per database;
- `services`: `registry_import`, the transaction around the rest;
- `report`: what the import found, every bad cell with its reason;
- `runs`: large uploads imported by the worker (`linli.grids.tasks`), with a progress page;
- `template_files`: the blank files offered for download.
"""

from linli.grids.importing.columns import (
    COLUMNS,
    PARTY_LABELS_ZH,
    RESIDENCY_LABELS_ZH,
    SEX_LABELS_ZH,
    TAG_LABELS_ZH,
    Column,
)
from linli.grids.importing.reading import file_kind
from linli.grids.importing.report import Counts, ImportReport, RowError
from linli.grids.importing.services import import_scope_paths, registry_import
from linli.grids.importing.template_files import import_template_csv, import_template_xlsx
from linli.grids.importing.validation import id_number_ok

__all__ = [
    "COLUMNS",
    "PARTY_LABELS_ZH",
    "RESIDENCY_LABELS_ZH",
    "SEX_LABELS_ZH",
    "TAG_LABELS_ZH",
    "Column",
    "Counts",
    "ImportReport",
    "RowError",
    "file_kind",
    "id_number_ok",
    "import_scope_paths",
    "import_template_csv",
    "import_template_xlsx",
    "registry_import",
]
