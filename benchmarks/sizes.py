"""Image sizes: over the base image, and what the application installed (a walk of the
file system inside the image)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TypedDict

from benchmarks.model import run

# Sums file sizes the way Docker sizes a layer: regular files and symlinks by their
# length, directories not at all, a hard-linked file once. Given the base image's
# footprint, also what installing Debian packages the base lacks put in the image: the
# packages' files, dpkg's records that are new or changed, and debconf's cache, which
# every install writes again (a layer that installs a package holds a copy of each).
# Prints the sizes, the installed packages' names and dpkg's records (sizes, mtimes).
FOOTPRINT_SCRIPT = """
import glob, json, os, stat, sys
request = json.load(sys.stdin)
base = request["base"]
seen = set()
def size(path):
    try:
        st = os.lstat(path)
    except OSError:
        return 0
    if stat.S_ISDIR(st.st_mode) or (st.st_dev, st.st_ino) in seen:
        return 0
    seen.add((st.st_dev, st.st_ino))
    return st.st_size
def files(top):
    for parent, dirs, names in os.walk(top):
        for name in dirs + names:
            yield os.path.join(parent, name)
trees = {top: sum(size(path) for path in files(top)) for top in request["trees"]}
listings = {os.path.basename(p)[:-5]: p for p in glob.glob("/var/lib/dpkg/info/*.list")}
records = {}
for path in files("/var/lib/dpkg"):
    st = os.lstat(path)
    if not stat.S_ISDIR(st.st_mode):
        records[path] = [st.st_size, st.st_mtime_ns]
added = rewritten = 0
if base is not None:
    for name, listing in sorted(listings.items()):
        if name not in base["packages"]:
            with open(listing) as lines:
                added += sum(size(line.rstrip("\\n")) for line in lines)
    if added:
        old = base["records"]
        rewritten = sum(size(p) for p, record in records.items() if old.get(p) != record)
        rewritten += sum(size(p) for p in glob.glob("/var/cache/debconf/*.dat"))
print(json.dumps({
    "trees": trees,
    "packages": sorted(listings),
    "records": records if base is None else {},
    "added_packages": added + rewritten,
}))
"""


class Footprint(TypedDict):
    """What FOOTPRINT_SCRIPT prints (sizes in bytes)."""

    trees: dict[str, int]
    packages: list[str]
    records: dict[str, list[int]]
    added_packages: int


def image_size(tag: str) -> int:
    return int(run("docker", "image", "inspect", "--format", "{{.Size}}", tag).stdout)


def footprint(tag: str, trees: Sequence[str], base: Footprint | None) -> Footprint:
    request = json.dumps({"trees": list(trees), "base": base})
    out = run(
        "docker",
        "run",
        "--rm",
        "--interactive",
        "--user",
        "0",
        "--entrypoint",
        "/usr/local/bin/python",
        tag,
        "-c",
        FOOTPRINT_SCRIPT,
        input=request,
    ).stdout
    printed: Footprint = json.loads(out)
    return printed


def installed_size(tag: str, base: Footprint) -> int:
    """What a variant adds to the file system for the application: /app, what it installed
    into the base image's Python (/usr/local), and the files of the Debian packages it
    added with their records. Caches, package lists and tools outside these are not in it."""
    image = footprint(tag, ["/app", "/usr/local"], base)
    trees = image["trees"]
    return (
        trees["/app"] + trees["/usr/local"] - base["trees"]["/usr/local"] + image["added_packages"]
    )
