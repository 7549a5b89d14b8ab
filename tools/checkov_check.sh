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

# shellcheck source=tools/pinned_venv.sh
source "$repo_root/tools/pinned_venv.sh"
pinned_venv "$venv" checkov "$CHECKOV_VERSION" "${CHECKOV_PYTHON:-}"

# --skip-download: no calls to the vendor's platform (offline, no API key); checks run from the package.
export BC_SKIP_MAPPING=TRUE
exec "$venv/bin/checkov" --file template.yaml --framework cloudformation --compact --quiet --skip-download
