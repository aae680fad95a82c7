"""README's account of `linli check --deploy` names every Linli check, each as what it is: an
error (E…, fails the command) or a warning (W…). A tryout found file permissions described
as warnings while the code reports them as errors."""

import re
from pathlib import Path

import linli.ops.checks

ROOT = Path(__file__).resolve().parents[3]
CHECK_ID = re.compile(r"\b(?:linli\.)?([EW]\d{3})\b")
RANGE = re.compile(r"\b([EW])(\d{3})`?[–-]`?(?:linli\.)?[EW](\d{3})\b")


def _ids(text: str) -> set[str]:
    found = set(CHECK_ID.findall(text))
    for letter, first, last in RANGE.findall(text):
        found |= {f"{letter}{number:03d}" for number in range(int(first), int(last) + 1)}
    return found


def test_readme_names_each_deploy_check_as_error_or_warning():
    readme = (ROOT / "README.md").read_text()
    start = readme.index("`linli check --deploy` runs Django's deployment checks")
    paragraph = readme[start : readme.index("\n\n", start)]
    errors_part, warnings_part = paragraph.split("Errors:", 1)[1].split("Warnings:", 1)
    errors, warnings = _ids(errors_part), _ids(warnings_part)
    assert errors and all(check.startswith("E") for check in errors), errors
    assert warnings and all(check.startswith("W") for check in warnings), warnings
    in_code = set(
        re.findall(r"\"linli\.([EW]\d{3})\"", Path(linli.ops.checks.__file__).read_text())
    )
    assert errors | warnings == in_code
