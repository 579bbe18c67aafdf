"""CI's audit workflow: the locked main dependencies against the advisories OSV knows.

    python .github/scripts/audit.py PIP-AUDIT

Exports poetry.lock's main group, every extra included, as hash-pinned requirements
and has pip-audit look each one up; nothing is installed. accepted-advisories.toml
lists the advisories this project accepts for a while, each with an `id`, a `reason`
and an `expires` date: they are ignored until that date, and fail the audit after it.
"""

import datetime
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

ACCEPTED = Path("accepted-advisories.toml")
EXAMPLE = 'id = "GHSA-xxxx-xxxx-xxxx", reason = "...", expires = 2030-01-31'


def accepted(today: datetime.date) -> list[str]:
    """The ids to ignore; an entry that has expired or lacks a field fails the audit."""
    text = ACCEPTED.read_text() if ACCEPTED.exists() else ""
    ids, errors = [], []
    for number, entry in enumerate(tomllib.loads(text).get("advisory", []), start=1):
        advisory, reason, expires = (entry.get(k) for k in ("id", "reason", "expires"))
        if not (
            isinstance(advisory, str)
            and advisory.strip()
            and isinstance(reason, str)
            and reason.strip()
            and type(expires) is datetime.date
        ):
            errors.append(f"entry {number} needs an id, a reason and a date: {EXAMPLE}")
        elif expires < today:
            errors.append(
                f"{advisory} was accepted until {expires}: upgrade, or accept it "
                "again with a new date and the reason that still holds"
            )
        else:
            ids.append(advisory)
            print(f"Accepted until {expires}: {advisory} ({reason.strip()})")
    for error in errors:
        print(f"::error::{ACCEPTED}: {error}")
    if errors:
        sys.exit(1)
    return ids


def main() -> None:
    ignored = accepted(datetime.datetime.now(datetime.UTC).date())
    with tempfile.TemporaryDirectory() as folder:
        requirements = Path(folder) / "requirements.txt"
        export = ["poetry", "export", "--only", "main", "--all-extras"]
        subprocess.run([*export, "--output", requirements], check=True)
        audit = [sys.argv[1], "--requirement", requirements, "--require-hashes"]
        # OSV: the PyPA advisories, GitHub's and the malicious-package reports at once.
        audit += ["--disable-pip", "--vulnerability-service", "osv", "--strict"]
        audit += ["--progress-spinner", "off", "--desc", "on"]
        for advisory in ignored:
            audit += ["--ignore-vuln", advisory]
        sys.exit(subprocess.run(audit, check=False).returncode)


main()
