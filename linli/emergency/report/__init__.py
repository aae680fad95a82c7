"""The after-action report of an activation: the figures, the page and the PDF, one
module each:

- `data`: what the report says, computed from the rows (`summary_compute`), kept on the
  activation at stand-down;
- `text`: the words for durations, shares, grades and timeline events;
- `chart`: the coverage curve as an inline SVG and a table;
- `context`: everything the page and the PDF show (`report_context`);
- `pdf`: the PDF, laid out with ReportLab (`report_pdf`).

The names other modules use are importable from this package.
"""

from linli.emergency.report.chart import coverage_table_points
from linli.emergency.report.context import report_context
from linli.emergency.report.data import summary_compute
from linli.emergency.report.pdf import report_pdf
from linli.emergency.report.text import minutes_text, share_text

__all__ = [
    "coverage_table_points",
    "minutes_text",
    "report_context",
    "report_pdf",
    "share_text",
    "summary_compute",
]
