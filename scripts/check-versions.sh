#!/usr/bin/env bash
# Fails unless every package built from this repository carries the workspace's version
# (Cargo.toml [workspace.package]): the crates in Cargo.lock, the npm packages (main package and
# per-platform packages), and CHANGELOG.md
# has a section for it or an "Unreleased" one, and the release files the README
# names carry it. The Python wheel takes its version from the
# crate (pyproject.toml: dynamic), which scripts/check-release.sh checks on the built wheel.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
exec python3 - <<'PY'
import glob, json, re, sys

# Plain text matching rather than tomllib, which needs Python 3.11.
with open("Cargo.toml") as f:
    workspace_package = re.search(r"^\[workspace\.package\]\n(.*?)(?:^\[|\Z)", f.read(), re.M | re.S)
version = re.search(r'^version\s*=\s*"([^"]+)"', workspace_package.group(1), re.M).group(1)
problems = []

# Cargo.lock: every package without a `source` line is a member of this workspace.
with open("Cargo.lock") as f:
    for entry in f.read().split("[[package]]")[1:]:
        name = re.search(r'^name = "([^"]+)"', entry, re.M).group(1)
        locked = re.search(r'^version = "([^"]+)"', entry, re.M).group(1)
        if not re.search(r"^source = ", entry, re.M) and locked != version:
            problems.append(f"Cargo.lock: {name} is {locked}")

with open("node/package.json") as f:
    main = json.load(f)
if main["version"] != version:
    problems.append(f"node/package.json: version {main['version']}")
# The main package's optionalDependencies on the platform packages are written when it is
# packed (node/scripts/pack.js, which checks them in the tarball): listed in the checkout they
# would make `npm ci` look for packages that are not on the registry.
for path in sorted(glob.glob("node/npm/*/package.json")):
    with open(path) as f:
        platform = json.load(f)
    if platform["version"] != version:
        problems.append(f"{path}: version {platform['version']}")

with open("CHANGELOG.md") as f:
    changelog = f.read()
if not re.search(rf"^## \[?(Unreleased|{re.escape(version)})\]?", changelog, re.M):
    problems.append(f"CHANGELOG.md: no '## [{version}]' or '## [Unreleased]' section")

# The README names the release files, version included.
with open("README.md") as f:
    for named in sorted(set(re.findall(r"\b(?:rocketmq_ons|rocketmq-ons(?:-linux-x64-gnu)?|ons)-(\d+\.\d+\.\d+)\b", f.read()))):
        if named != version:
            problems.append(f"README.md names release files of version {named}")

for p in problems:
    print(f"version mismatch (workspace is {version}): {p}", file=sys.stderr)
if problems:
    sys.exit(1)
print(f"all packages are at {version}")
PY
