#!/usr/bin/env bash
# Run checkov on template.yaml (framework cloudformation, which understands SAM) from a pinned venv.
#
# Usage (from anywhere; paths are resolved against the repo root):
#   tools/checkov_check.sh            # exit 0 only with 0 failed checks
#
# Every skipped check is declared on its resource in template.yaml
# (Metadata: checkov: skip: [{id, comment}]) with the reason; nothing is skipped on the command line.
#
# Environment:
#   CHECKOV_VENV    venv holding the pinned checkov (default: .venv-checkov, relative to the repo root)
#   CHECKOV_PYTHON  interpreter used to create that venv (default: tools/find_python.sh, CPython 3.13)
set -euo pipefail

CHECKOV_VERSION="3.3.30"

die() { echo "checkov_check: $*" >&2; exit 1; }
[[ $# -eq 0 ]] || { sed -n '2,12p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; [[ "$1" == -h || "$1" == --help ]] && exit 0; exit 2; }

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"
venv="${CHECKOV_VENV:-.venv-checkov}"
[[ "$venv" = /* ]] || venv="$repo_root/$venv"

installed_version() {
  "$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("checkov"))' 2>/dev/null || true
}

if [[ ! -x "$venv/bin/python" ]]; then
  bootstrap="${CHECKOV_PYTHON:-$("$repo_root/tools/find_python.sh")}" || die "no CPython 3.13 for $venv"
  echo "checkov_check: creating $venv with $("$bootstrap" --version 2>&1)"
  "$bootstrap" -m venv "$venv" || die "could not create venv $venv"
fi
if [[ "$(installed_version)" != "$CHECKOV_VERSION" ]]; then
  echo "checkov_check: installing checkov==$CHECKOV_VERSION into $venv (first run takes a few minutes)"
  "$venv/bin/python" -m pip install --disable-pip-version-check --quiet "checkov==$CHECKOV_VERSION" \
    || die "pip install checkov==$CHECKOV_VERSION failed"
  [[ "$(installed_version)" == "$CHECKOV_VERSION" ]] || die "checkov $CHECKOV_VERSION not importable in $venv"
fi

# --skip-download: no calls to the vendor's platform (offline, no API key); checks run from the package.
export BC_SKIP_MAPPING=TRUE
exec "$venv/bin/checkov" --file template.yaml --framework cloudformation --compact --quiet --skip-download
