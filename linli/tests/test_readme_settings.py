"""README's Configuration table names every setting that linli/settings.py reads from the
environment: a variable an operator cannot find is one they cannot set (issue 13 added
twenty, for two-factor sign-in, tokens, reveals, imports and retention)."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
READ = re.compile(r"env_\w+\(\s*\"(LINLI_\w+)\"")


def configuration_section(readme: str) -> str:
    start = readme.index("## Configuration")
    return readme[start : readme.index("\n## ", start + 1)]


def test_readme_configuration_names_every_setting_read_from_the_environment():
    names = set(READ.findall((ROOT / "linli" / "settings.py").read_text()))
    section = configuration_section((ROOT / "README.md").read_text())
    missing = sorted(
        name for name in names if f"`{name}`" not in section and f"`{name}=" not in section
    )
    assert len(names) > 50
    assert missing == []
