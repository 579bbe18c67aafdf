"""The support layer of the test-suite: plain helpers, by topic; fixtures live in conftest.py.

Test modules import from here and from nothing else of the suite: not from one another,
not from conftest.py (tests/test_repo.py checks). So a promise's module moves or changes
without breaking another's, as in Copier's own suite.

- shell.py: commands (`run`), the package index, PATH without Poetry, a missing tool
- template.py: this template (`ROOT`), the tests' answers, `copy_project`, reading a render
- matrix.py: the Docker strategies and Python versions, from copier.yml; those built here
- git.py: git in a repository; the template committed and tagged in one of its own
- updates.py: a project's life across template versions: render, edit, update, compare
- workflows.py: reading workflows, their pins, schemas and zizmor; the image job's checks
- steps.py: a job's `run:` steps, run as a GitHub runner runs them; CI's conflict check
- ci.py: this template's own CI entry point, .ci/run, with stand-ins for what it calls
- act.py: whole jobs run with act
- docker.py: images built and tagged for this test session only
- package_index.py: package indexes on loopback for the docker tier
- vulnerability_service.py: a stand-in of OSV's query API on loopback, for the audit
"""
