#!/usr/bin/env bash
# Print the path of a CPython 3.13 interpreter (the Lambda runtime is python3.13), or fail with one line.
# Order: $COSTPLAN_PYTHON, python3.13 on PATH, pyenv's 3.13.x.
set -euo pipefail
want="3.13"
ok() { [[ -n "$1" && -x "$1" ]] && [[ "$("$1" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)" == "$want" ]]; }
for cand in "${COSTPLAN_PYTHON:-}" "$(command -v python3.13 || true)"; do
  if ok "$cand"; then echo "$cand"; exit 0; fi
done
if command -v pyenv >/dev/null 2>&1; then
  for v in $(pyenv versions --bare 2>/dev/null | grep -E "^${want//./\\.}(\.[0-9]+)?$" | sort -rV); do
    cand="$(PYENV_VERSION="$v" pyenv which python3.13 2>/dev/null || true)"
    if ok "$cand"; then echo "$cand"; exit 0; fi
  done
fi
echo "no Python $want found: install CPython $want (e.g. 'pyenv install $want' or your OS package python$want) or set COSTPLAN_PYTHON" >&2
exit 1
