"""Model fields shared by every app (accounts is the bottom of the import order)."""

from django.db import models


class GridPathField(models.CharField):
    """A materialised grid path such as `/S/B/A/A1/`, matched by prefix.

    On PostgreSQL the column uses the "C" collation: byte order makes `LIKE 'prefix%'` a
    plain index range, so a scoped list ordered by path walks only its own subtree instead
    of skipping the rest of the street (measured in bench/README.md). Other databases keep
    their default, which already compares bytes.
    """

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 255)
        super().__init__(*args, **kwargs)

    def db_parameters(self, connection):
        parameters = super().db_parameters(connection)
        if connection.vendor == "postgresql":
            parameters["collation"] = "C"
        return parameters
