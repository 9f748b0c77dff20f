#!/usr/bin/env bash
# Installs a model pack listed in models/packs.tsv into DEST/NAME.
#
# usage: models/fetch-pack.sh NAME [DEST]
#
# DEST defaults to $FQ_MODELS, else ~/.cache/facequant/models. The fq commands look for models
# in $FQ_MODELS and its subfolders, so after `FQ_MODELS=DEST` a pack's models are found by name
# (fq detect --model det_10g ...).
#
# InsightFace packs are downloaded from BASE/NAME.zip, BASE being $FQ_PACK_URL or InsightFace's
# public release https://github.com/deepinsight/insightface/releases/download/v0.7. The zip is
# checked against the sha256 of packs.tsv when one is given there, and always for the .onnx files
# the pack must hold; it is unpacked into a temporary folder inside DEST that is renamed to
# DEST/NAME only when complete, so a failed run leaves DEST as it was. The "shared" packs link
# the files of $FQ_SHARED/models (default: ../shared beside the source tree) instead.
#
# Environment: FQ_MODELS, FQ_PACK_URL, FQ_SHARED, FQ_PACKS (another packs.tsv),
# FQ_PACK_TIMEOUT (seconds a download may take, default 1800).
# Exit status: 0 installed, 1 failure, 2 usage error or unknown pack.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
packs=${FQ_PACKS:-$here/packs.tsv}
default_base=https://github.com/deepinsight/insightface/releases/download/v0.7
base=${FQ_PACK_URL:-$default_base}

say() { echo "fetch-pack: $*" >&2; }
die() { say "$*"; exit 1; }

pack_names() {
    awk -F'\t' '!/^#/ && $1 != "" && $1 != "pack" { printf "%s%s", sep, $1; sep = ", " }' \
        "$packs"
}

usage() {
    echo "usage: fetch-pack.sh NAME [DEST]   (packs: $(pack_names))" >&2
    exit 2
}

[ $# -ge 1 ] && [ $# -le 2 ] || usage
[ "$1" != "-h" ] && [ "$1" != "--help" ] || { sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0; }
[ -r "$packs" ] || die "cannot read the pack list $packs"

name=$1
row=$(awk -F'\t' -v n="$name" '!/^#/ && $1 == n && n != "pack" { print; exit }' "$packs")
if [ -z "$row" ]; then
    say "unknown pack '$name'; packs: $(pack_names)"
    exit 2
fi
# Tabs are white space to read, which would merge empty fields: split on another separator.
IFS=$'\x1f' read -r _ source sha256 files _ <<< "${row//$'\t'/$'\x1f'}"
IFS=',' read -r -a expected <<< "$files"

dest=${2:-${FQ_MODELS:-$HOME/.cache/facequant/models}}
mkdir -p "$dest" || die "cannot create $dest"
target=$dest/$name
stage=$(mktemp -d "$dest/.$name.XXXXXX") || die "cannot make a temporary folder in $dest"
trap 'rm -rf "$stage"' EXIT
mkdir "$stage/pack"

# Lists the member names of a zip, one a line.
zip_members() {
    python3 -c 'import sys, zipfile; print("\n".join(zipfile.ZipFile(sys.argv[1]).namelist()))' \
        "$1"
}

# Extracts a zip into a folder; Python's zipfile drops absolute paths and "..".
zip_extract() {
    python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])' \
        "$1" "$2"
}

link_shared() {
    local shared=${FQ_SHARED:-$here/../../shared}
    local f
    for f in "${expected[@]}"; do
        [ -f "$shared/models/$f" ] || die "$shared/models/$f is missing (set FQ_SHARED)"
        ln -s "$(cd "$shared/models" && pwd)/$f" "$stage/pack/$f" 2>/dev/null ||
            cp "$shared/models/$f" "$stage/pack/$f" || die "cannot link or copy $f"
    done
}

download_zip() {
    local url=${base%/}/$name.zip zip=$stage/$name.zip
    say "downloading $url"
    if ! curl -fsSL --connect-timeout 20 --max-time "${FQ_PACK_TIMEOUT:-1800}" -o "$zip" "$url"
    then
        say "cannot download $url (no network, or the address is wrong)."
        say "Fetch $name.zip on a machine with network, unzip it into a folder, and point"
        say "FQ_MODELS at that folder (or pass --model PATH.onnx to the fq commands)."
        exit 1
    fi
    if [ -n "$sha256" ]; then
        echo "$sha256  $zip" | sha256sum --check --status ||
            die "$name.zip does not have the sha256 $sha256 of $packs"
    fi
}

unpack_zip() {
    local zip=$stage/$name.zip members f found
    members=$(zip_members "$zip") || die "$name.zip is not a readable zip file"
    for f in "${expected[@]}"; do
        grep -qE "(^|/)${f//./\\.}\$" <<< "$members" || die "$name.zip lacks $f"
    done
    zip_extract "$zip" "$stage/unzipped" || die "cannot unpack $name.zip"
    # Packs hold their files at the top or inside one folder: keep the .onnx files, flat.
    for f in "${expected[@]}"; do
        found=$(find "$stage/unzipped" -type f -name "$f" | head -n 1)
        [ -n "$found" ] || die "$name.zip lacks $f after unpacking"
        mv "$found" "$stage/pack/$f"
    done
}

case $source in
    shared) link_shared ;;
    insightface-*) download_zip; unpack_zip ;;
    *) die "pack '$name' has the unknown source '$source' in $packs" ;;
esac

if [ -e "$target" ]; then
    mv "$target" "$stage/previous" || die "cannot move the old $target aside"
fi
if ! mv "$stage/pack" "$target"; then
    [ ! -e "$stage/previous" ] || mv "$stage/previous" "$target"
    die "cannot rename the unpacked pack to $target"
fi
say "installed $name into $target: ${expected[*]}"
say "use it with: FQ_MODELS=$dest fq detect --model ${expected[0]%.onnx} IMG"
