#!/usr/bin/env bash
# Build the Hallmark desktop app with PyInstaller (packaging/hallmark.spec) into
# dist/hallmark/ (one folder), lay it out as a Linux AppDir and tarball, report sizes.
# Run ./setup.sh first. Output (dist/ is gitignored):
#   dist/hallmark/                          the one-folder app: hallmark, _internal/
#   dist/Hallmark.AppDir/                   AppRun, .desktop, icons, usr/lib/hallmark/
#   dist/hallmark-VERSION-linux-ARCH.tar.gz the AppDir, for download
set -euo pipefail
cd "$(dirname "$0")/.."

[[ -x .venv/bin/pyinstaller ]] || .venv/bin/python -m pip install -q -e '.[package]'
version=$(.venv/bin/python -c 'import app; print(app.__version__)')
start=$SECONDS
.venv/bin/pyinstaller --noconfirm --log-level WARN \
    --distpath dist --workpath build/pyinstaller packaging/hallmark.spec
built=$((SECONDS - start))

if [[ $(uname -s) == Linux ]]; then
    appdir=dist/Hallmark.AppDir
    rm -rf "$appdir"
    mkdir -p "$appdir/usr/lib" "$appdir/usr/share/applications" \
        "$appdir/usr/share/icons/hicolor/256x256/apps" "$appdir/usr/share/icons/hicolor/scalable/apps"
    cp -al dist/hallmark "$appdir/usr/lib/hallmark"  # hard links: no second copy on disk
    cp packaging/linux/AppRun "$appdir/AppRun"
    cp resources/hallmark.desktop "$appdir/hallmark.desktop"
    cp resources/hallmark.desktop "$appdir/usr/share/applications/"
    cp resources/icons/hallmark.png "$appdir/hallmark.png"
    cp resources/icons/hallmark.png "$appdir/usr/share/icons/hicolor/256x256/apps/"
    cp resources/icons/hallmark.svg "$appdir/usr/share/icons/hicolor/scalable/apps/"
    ln -sf hallmark.png "$appdir/.DirIcon"
    tarball=dist/hallmark-$version-linux-$(uname -m).tar.gz
    tar -C dist -czf "$tarball" Hallmark.AppDir
fi

echo "built dist/hallmark (hallmark $version) in ${built} s"
echo "size: $(du -sh dist/hallmark | cut -f1) in $(find dist/hallmark -type f | wc -l) files"
if [[ -n ${tarball:-} ]]; then echo "tarball: $tarball, $(du -h "$tarball" | cut -f1)"; fi
echo "largest parts:"
du -s dist/hallmark/_internal/* | sort -rn | head -8 | while read -r kib path; do
    printf '  %6d MiB  %s\n' $((kib / 1024)) "${path#dist/hallmark/_internal/}"
done
