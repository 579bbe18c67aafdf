"""What tests parametrize over, read from copier.yml: each Docker strategy, each Python
version; and the versions whose images can be built here."""

from __future__ import annotations

from typing import Any

import yaml

from tests.support.template import ROOT

_QUESTIONS: dict[str, Any] = yaml.safe_load((ROOT / "copier.yml").read_text())

# The `docker_strategy` question's choices (label -> value): the values, in its order.
STRATEGIES: list[str] = list(_QUESTIONS["docker_strategy"]["choices"].values())
# The `python_version` question's choices, in its order.
PYTHONS: list[str] = [str(version) for version in _QUESTIONS["python_version"]["choices"]]
# The Pythons this machine has base images for (../shared/ci/docker-up's stand-ins of
# python:X.Y-slim): the docker and act tiers build these only.
BUILDABLE_PYTHONS: list[str] = ["3.11", "3.13"]
assert set(BUILDABLE_PYTHONS) <= set(PYTHONS), "a buildable Python the template does not offer"
