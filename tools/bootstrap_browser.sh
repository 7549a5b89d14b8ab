#!/usr/bin/env bash
# Install Debian's chromium when it is missing (the HTML report test opens reports in a real browser).
# Shared by `make test` and .ci/run, so a fresh clone needs no manual step.
set -uo pipefail
command -v chromium >/dev/null 2>&1 && exit 0
if ! command -v apt-get >/dev/null 2>&1; then
  echo "bootstrap: chromium is missing and apt-get is not available; install chromium to run the browser test" >&2
  exit 0
fi
sudo=""; [[ "$(id -u)" == 0 ]] || sudo="sudo -n"
echo "bootstrap: installing chromium (Debian package)"
if ! ($sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium) >/dev/null 2>&1; then
  echo "bootstrap: could not install chromium; the browser test will fail" >&2
fi
exit 0
