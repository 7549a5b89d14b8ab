# Sourced by tools/sam_check.sh and tools/checkov_check.sh: a tool pinned in a venv of its own, so its
# dependencies never meet the project's.
#   pinned_venv VENV PACKAGE VERSION PYTHON_OR_EMPTY   (dies with one line on failure; needs `die` and $repo_root)
pinned_venv() {
  local venv="$1" package="$2" version="$3" bootstrap="${4:-}"
  installed() { "$venv/bin/python" -c "import importlib.metadata as m; print(m.version('$package'))" 2>/dev/null || true; }
  if [[ ! -x "$venv/bin/python" ]]; then
    [[ -n "$bootstrap" ]] || bootstrap="$("$repo_root/tools/find_python.sh")" || die "no CPython 3.13 for $venv"
    command -v "$bootstrap" >/dev/null 2>&1 || die "no Python interpreter found ($bootstrap)"
    echo "$(basename "$0"): creating $venv with $("$bootstrap" --version 2>&1)"
    rm -rf "$venv"
    "$bootstrap" -m venv "$venv" || die "could not create venv $venv"
  fi
  if [[ "$(installed)" != "$version" ]]; then
    echo "$(basename "$0"): installing $package==$version into $venv (the first run takes a few minutes)"
    "$venv/bin/python" -m pip install --disable-pip-version-check --quiet "$package==$version" \
      || die "pip install $package==$version failed"
    [[ "$(installed)" == "$version" ]] || die "$package $version not importable in $venv"
  fi
}
