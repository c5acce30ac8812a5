#!/usr/bin/env bash
# Packaging CI: build the desktop app (packaging/build.sh), then run the bundle offscreen
# with a throwaway home: `hallmark --version` against pyproject's version, `hallmark
# selftest` twice (compiles the kernels into the per-user Numba cache, then loads them
# from it), and a screenshot of the main window (dist/hallmark-main-window.png). Also
# checks that what the spec trims is not in the bundle. Too slow for every CI run (a
# build is a few minutes on two cores); run it before a release.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS

./setup.sh
packaging/build.sh

export QT_QPA_PLATFORM=offscreen
home=$(mktemp -d)
trap 'rm -rf "$home"' EXIT
export HOME=$home XDG_CACHE_HOME=$home/cache XDG_DATA_HOME=$home/data \
    XDG_CONFIG_HOME=$home/config XDG_STATE_HOME=$home/state
unset NUMBA_CACHE_DIR NUMBA_DISABLE_JIT
bundle=dist/hallmark
app=$bundle/hallmark
fail() { echo "packaging CI FAILED: $*" >&2; exit 1; }

want="hallmark $(.venv/bin/python -c 'import app; print(app.__version__)')"
got=$("$app" --version) || fail "hallmark --version exited $?"
[[ $got == "$want" ]] || fail "--version printed '$got', want '$want'"
echo "ok: $got"
got=$(dist/Hallmark.AppDir/AppRun --version) || fail "AppRun --version exited $?"
[[ $got == "$want" ]] || fail "AppRun --version printed '$got', want '$want'"
echo "ok: AppDir runs"

"$app" selftest | tee "$home/first.txt" || fail "first self-test failed"
grep -q "compiled and cached" "$home/first.txt" || fail "first self-test did not compile"
grep -q "^cache: $XDG_CACHE_HOME/hallmark/numba" "$home/first.txt" ||
    fail "Numba cache is not in the per-user folder $XDG_CACHE_HOME/hallmark/numba"
"$app" selftest >"$home/second.txt" || fail "second self-test failed"
if grep -q "compiled" "$home/second.txt"; then
    cat "$home/second.txt"
    fail "second self-test compiled again: the Numba cache is not used"
fi
echo "ok: second self-test loaded every kernel from the cache"

shot=dist/hallmark-main-window.png
rm -f "$shot"
"$app" gui --screenshot "$shot" || fail "gui --screenshot failed"
[[ -s $shot ]] || fail "no screenshot"
echo "ok: main window screenshot $shot"

for left_out in scipy skimage matplotlib pytest hypothesis fontTools PySide6/Qt/translations \
    PySide6/Qt/lib/libQt6WebEngineCore.so.6 PySide6/Qt/plugins/platformthemes/libqgtk3.so; do
    [[ ! -e $bundle/_internal/$left_out ]] || fail "$left_out is in the bundle"
done
echo "ok: trimmed parts are not in the bundle"
echo "packaging CI passed in $((SECONDS - start)) s"
