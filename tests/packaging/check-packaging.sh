#!/usr/bin/env bash
# Packaging checks, on a copy of the source tree without .git and without ../shared beside it:
#   1. it configures, builds and installs (headers, static and shared library, pkg-config, fq);
#   2. a program compiles and links against the installed library through pkg-config;
#   3. a project using facequant as a meson subproject gets it with dependency('facequant'),
#      in the minimal build (no tools, no tests, no threads).
set -euo pipefail
src=$(cd "$1" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

mkdir -p "$work/tarball"
tar -C "$src" --exclude=.git --exclude='./build*' --exclude='./subprojects' -cf "$work/src.tar" .
tar -C "$work/tarball" -xf "$work/src.tar"
[ ! -e "$work/tarball/.git" ] || { echo "the copy still has .git"; exit 1; }

echo "1. tarball build and install"
meson setup "$work/build" "$work/tarball" --prefix=/usr -Dtests=false \
  -Dshared_dir="$work/no-shared" >/dev/null
ninja -C "$work/build" >/dev/null
DESTDIR="$work/dest" meson install -C "$work/build" >/dev/null
for f in usr/include/facequant/fq.h usr/bin/fq; do
  [ -f "$work/dest/$f" ] || { echo "missing after install: $f"; exit 1; }
done
static=$(find "$work/dest" -name libfacequant.a | head -1)
shared=$(find "$work/dest" -name 'libfacequant.so*' | head -1)
pc=$(find "$work/dest" -name facequant.pc | head -1)
[ -n "$static" ] && [ -n "$shared" ] && [ -n "$pc" ] ||
  { echo "missing library or pkg-config file after install"; exit 1; }
"$work/dest/usr/bin/fq" --help >/dev/null

echo "2. pkg-config consumer"
cat > "$work/app.c" <<'C'
#include <facequant/fq.h>
#include <stdio.h>
int main(void)
{
    fq_graph *g;
    fq_error err;
    if (fq_graph_create(&g, &err) != FQ_OK)
        return 1;
    fq_graph_free(g);
    printf("%s\n", fq_status_name(FQ_ERR_PARSE));
    return 0;
}
C
pcdir=$(dirname "$pc")
sed -i "s|^prefix=.*|prefix=$work/dest/usr|" "$pc"
flags=$(PKG_CONFIG_PATH="$pcdir" pkg-config --cflags --libs --static facequant)
cc -o "$work/app" "$work/app.c" $flags -static-libgcc -Wl,-Bstatic -lfacequant -Wl,-Bdynamic -lm \
  2>/dev/null || cc -o "$work/app" "$work/app.c" $flags
LD_LIBRARY_PATH=$(dirname "$shared") "$work/app" | grep -q "parse error"

echo "3. meson subproject consumer, minimal build"
mkdir -p "$work/consumer/subprojects"
cp -r "$work/tarball" "$work/consumer/subprojects/facequant"
cp "$work/app.c" "$work/consumer/app.c"
cat > "$work/consumer/meson.build" <<'M'
project('consumer', 'c', default_options : ['default_library=static'])
subproject('facequant', default_options : ['tools=false', 'tests=false', 'threads=false'])
executable('app', 'app.c', dependencies : dependency('facequant'))
M
meson setup "$work/consumer/build" "$work/consumer" >/dev/null
ninja -C "$work/consumer/build" >/dev/null
"$work/consumer/build/app" | grep -q "parse error"
if nm "$work/consumer/build/app" | grep -q ' U pthread_'; then
  echo "the threads=false build still uses pthreads"; exit 1
fi
echo "packaging: tarball build, install, pkg-config and subproject all work"
