#!/usr/bin/env bash
# Validate (and optionally build) the CostPlan SAM application without Docker or AWS credentials.
#
# Usage (from anywhere; paths are resolved against the repo root):
#   tools/sam_check.sh                      # sam validate --lint
#   tools/sam_check.sh build [sam args...]  # sam validate --lint, then sam build (in-process, no container)
#
# Environment:
#   SAM_VENV     venv holding the pinned aws-sam-cli (default: .venv-sam, relative to the repo root)
#   SAM_PYTHON   interpreter used to create that venv (default: tools/find_python.sh, CPython 3.13).
#                `build` needs CPython 3.13: the functions use the python3.13 runtime and the
#                layer Makefiles byte-compile for 3.13.
#   AWS_DEFAULT_REGION  defaults to us-east-1 (sam validate needs a region, never credentials).
set -euo pipefail

SAM_CLI_VERSION="1.170.0"

usage() { sed -n '2,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }
die() { echo "sam_check: $*" >&2; exit 1; }

mode="validate"
if [[ $# -gt 0 ]]; then
  case "$1" in
    build) mode="build"; shift ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $1" ;;
  esac
fi
[[ "$mode" == "build" || $# -eq 0 ]] || die "extra arguments are only accepted after 'build'"

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"
[[ -f template.yaml ]] || die "template.yaml not found in $repo_root"

venv="${SAM_VENV:-.venv-sam}"
[[ "$venv" = /* ]] || venv="$repo_root/$venv"

# --- (a) venv with the pinned aws-sam-cli -------------------------------------------------------
# shellcheck source=tools/pinned_venv.sh
source "$repo_root/tools/pinned_venv.sh"
pinned_venv "$venv" aws-sam-cli "$SAM_CLI_VERSION" "${SAM_PYTHON:-}"

# Put the venv first on PATH: sam's python3.13 builder and the layer Makefiles (python3) then use
# the venv interpreter, whose pip supports --dry-run/--report/--platform.
export PATH="$venv/bin:$PATH"
export AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-us-east-1}"
export AWS_EC2_METADATA_DISABLED=true   # no instance-metadata credential probing on laptops/CI
export SAM_CLI_TELEMETRY=0
sam="$venv/bin/sam"

# --- (b) validate + lint (cfn-lint bundled with sam) --------------------------------------------
"$sam" validate --lint --template-file template.yaml
# Both auth modes through SAM's own LanguageExtensions + translator: every route has its authorizer.
"$venv/bin/python" "$repo_root/tools/sam_auth_check.py"

# --- (c) optional in-process build --------------------------------------------------------------
if [[ "$mode" == "build" ]]; then
  command -v make >/dev/null 2>&1 || die "'make' is required for the layers (BuildMethod: makefile)"
  "$venv/bin/python" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 13))' \
    || die "build needs a CPython 3.13 venv; $venv has $("$venv/bin/python" --version 2>&1) (remove it; tools/find_python.sh picks 3.13)"
  export PYTHON="$venv/bin/python"   # interpreter used by layers/engine/Makefile and contracts/Makefile
  "$sam" build --template-file template.yaml --build-dir .aws-sam/build "$@"
fi
