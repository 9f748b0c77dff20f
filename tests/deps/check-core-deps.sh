#!/usr/bin/env bash
# Checks that the core library libfacequant.a needs nothing beyond libc, libm, pthreads and the
# compiler's runtime: every symbol it leaves undefined must be defined by those, and none may
# come from an image, HTTP, JSON or database library.
set -euo pipefail
lib="$1"
[ -f "$lib" ] || { echo "no library at $lib"; exit 1; }

undefined=$(nm -u "$lib" | awk 'NF == 2 && $1 == "U" { print $2 }' | sed 's/@.*//' | sort -u)
forbidden=$(echo "$undefined" | grep -E '^(jpeg_|tj[A-Z]|spng_|png_|WebP|MHD_|cJSON|sqlite3)' || true)
if [ -n "$forbidden" ]; then
  echo "libfacequant.a references tool libraries:"; echo "$forbidden"; exit 1
fi

# Symbols the C library, libm and libgcc provide, plus the library's own definitions.
provided=$(
  for so in $(gcc -print-file-name=libc.so.6) /lib/*-linux-gnu/libc.so.6 \
            /lib/*-linux-gnu/libm.so.6 /lib/*-linux-gnu/libpthread.so.0 \
            /lib/*-linux-gnu/libgcc_s.so.1; do
    [ -f "$so" ] && nm -D --defined-only "$so" 2>/dev/null | awk '{ print $NF }'
  done | sed 's/@.*//'
  nm --defined-only "$lib" | awk 'NF == 3 { print $3 }'
)
missing=$(comm -23 <(echo "$undefined") <(echo "$provided" | sort -u) |
          grep -vE '^(_GLOBAL_OFFSET_TABLE_|__tls_get_addr|_ITM_|__gmon_start__|__[a-z0-9_]+_chk$)' ||
          true)
if [ -n "$missing" ]; then
  echo "libfacequant.a needs symbols outside libc/libm/pthreads:"; echo "$missing"; exit 1
fi
echo "libfacequant.a: $(echo "$undefined" | wc -l) external symbols, all from libc/libm/pthreads"
