#!/usr/bin/env bash
# `make release-check`: run every release gate of RELEASE.md, print PASS or FAIL per line, exit 1 if any failed.
#
# Usage (from anywhere; paths are resolved against the repo root):
#   tools/release_check.sh                 # every gate; the benchmarks are measured now
#   RELEASE_BENCH=recorded tools/release_check.sh
#                                          # print the last recorded benchmark figures (README) instead
#
# Each gate's full output goes to $LOG_DIR/<gate>.log (default: $TMPDIR/costplan-release-check);
# a failing gate prints the last lines of its log. Gates do not stop at the first failure.
set -uo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root" || exit 2
LOG_DIR="${LOG_DIR:-${TMPDIR:-/tmp}/costplan-release-check}"
mkdir -p "$LOG_DIR"
BIN=".venv/bin"
failed=0

gate() {  # gate <name> <command...>: run, record PASS/FAIL with the elapsed time
  local name="$1"; shift
  local log="$LOG_DIR/$name.log" start=$SECONDS
  if "$@" >"$log" 2>&1; then
    printf 'PASS  %-22s %4ss  %s\n' "$name" "$((SECONDS - start))" "$(detail "$name" "$log")"
  else
    printf 'FAIL  %-22s %4ss  log: %s\n' "$name" "$((SECONDS - start))" "$log"
    tail -n 15 "$log" | sed 's/^/        /'
    failed=1
  fi
}

detail() {  # one line of evidence from a passing gate's log
  case "$1" in
    tests) grep -E '[0-9]+ passed' "$2" | tail -n 1 ;;
    checkov) grep -E 'Passed checks' "$2" | tail -n 1 ;;
    sam-validate) grep -c 'routes behind' "$2" | sed 's/$/ auth modes translated, every route behind its authorizer/' ;;
    sam-build) grep -E 'Build Succeeded' "$2" | tail -n 1 ;;
    *) echo "" ;;
  esac
}

no_build_outputs_in_git() {
  local tracked
  tracked="$(git ls-files .aws-sam .venv .venv-sam .venv-checkov .local-data | head -n 5)"
  [[ -z "$tracked" ]] || { echo "tracked build outputs: $tracked"; return 1; }
}

benchmarks() {
  if [[ "${RELEASE_BENCH:-measure}" == "recorded" ]]; then
    echo "recorded figures from README.md (not measured in this run):"
    awk '/^## Benchmarks/{on=1} on && /^(plan\/llm warm|ratio:|cold start|all four formats|CostPlan analyze|pandas)/' README.md
    return 0
  fi
  "$BIN/python" -m pip install -q -r requirements-bench.txt || return 1
  for script in benchmarks/plan_llm.py benchmarks/report.py benchmarks/invoice.py; do
    echo "== $script"
    "$BIN/python" "$script" || return 1
  done
}

echo "CostPlan release check ($(git rev-parse --short HEAD)$(git diff --quiet HEAD -- 2>/dev/null || echo ', uncommitted changes'))"
gate tests            make --no-print-directory test
gate ruff             "$BIN/ruff" check .
gate cfn-lint         "$BIN/cfn-lint" template.yaml
gate sam-validate     bash tools/sam_check.sh
gate checkov          bash tools/checkov_check.sh
gate openapi-additive "$BIN/python" -m tools.openapi check
gate sam-build        bash tools/sam_check.sh build
gate git-hygiene      no_build_outputs_in_git
gate benchmarks       benchmarks
if [[ -s "$LOG_DIR/benchmarks.log" ]]; then
  grep -E '^(recorded|machine|plan/llm warm|ratio:|cold start|all four formats|CostPlan analyze|pandas)' \
    "$LOG_DIR/benchmarks.log" | sed 's/^/        /'
fi

if [[ $failed -ne 0 ]]; then
  echo "release check: FAIL"
  exit 1
fi
echo "release check: PASS"
