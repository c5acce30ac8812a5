#!/usr/bin/env bash
# One-time set-up, safe to re-run: system libraries Qt needs, then the venv at .venv with
# Hallmark installed in editable mode (console script .venv/bin/hallmark).
set -euo pipefail
cd "$(dirname "$0")"

apt_packages=(libpulse0 libxkbcommon0 libegl1 libgl1 libfontconfig1 libdbus-1-3 xvfb libxcb-icccm4 libxcb-keysyms1)
missing=()
for pkg in "${apt_packages[@]}"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
python=${PYTHON:-python3.11}
# Debian's own Python makes venvs only with its separate venv package.
"$python" -c "import ensurepip" >/dev/null 2>&1 || missing+=("$(basename "$python")-venv")
if ((${#missing[@]})); then
    if [[ $(id -u) -eq 0 ]]; then sudo=""; else sudo="sudo"; fi
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

[[ -x .venv/bin/python ]] || "$python" -m venv .venv
stamp=.venv/.hallmark-installed
if [[ ! -f $stamp || pyproject.toml -nt $stamp ]]; then
    .venv/bin/python -m pip install -q --upgrade pip
    .venv/bin/python -m pip install -q -e '.[test]'
    touch "$stamp"
fi
