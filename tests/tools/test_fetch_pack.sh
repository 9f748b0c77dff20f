#!/usr/bin/env bash
# models/fetch-pack.sh against a local HTTP server holding dummy packs; never the real address.
#
# usage: test_fetch_pack.sh PATH/TO/fetch-pack.sh
set -u

fetch=$1
tmp=$(mktemp -d)
server_pid=
passed=0

cleanup() {
    if [ -n "$server_pid" ]; then
        kill "$server_pid" 2>/dev/null
        wait "$server_pid" 2>/dev/null
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT

fail() {
    echo "FAIL: $*" >&2
    [ ! -f "$tmp/err" ] || sed 's/^/  stderr: /' "$tmp/err" >&2
    exit 1
}
pass() {
    passed=$((passed + 1))
    echo "ok: $*"
}

# Dummy packs: buffalo_sc with its files at the top, buffalo_m inside a folder, and a
# buffalo_s that lacks most of its files.
mkdir -p "$tmp/www"
python3 - "$tmp/www" <<'EOF'
import sys, zipfile
www = sys.argv[1]
with zipfile.ZipFile(f"{www}/buffalo_sc.zip", "w") as z:
    z.writestr("det_500m.onnx", b"dummy detector")
    z.writestr("w600k_mbf.onnx", b"dummy recognizer")
with zipfile.ZipFile(f"{www}/buffalo_m.zip", "w") as z:
    for name in ["det_2.5g", "w600k_r50", "1k3d68", "2d106det", "genderage"]:
        z.writestr(f"buffalo_m/{name}.onnx", f"dummy {name}".encode())
with zipfile.ZipFile(f"{www}/buffalo_s.zip", "w") as z:
    z.writestr("det_500m.onnx", b"dummy detector")
EOF
[ -f "$tmp/www/buffalo_sc.zip" ] || fail "python3 could not make the dummy zips"

# A loopback server on a free port (port 0: the kernel picks one), stopped by the trap and in
# any case after 120 s.
timeout 120 python3 -u -m http.server 0 --bind 127.0.0.1 --directory "$tmp/www" \
    > "$tmp/server.log" 2>&1 &
server_pid=$!
port=
for _ in $(seq 1 100); do
    port=$(grep -oE 'port [0-9]+' "$tmp/server.log" | head -n 1 | cut -d' ' -f2)
    [ -z "$port" ] || break
    sleep 0.1
done
[ -n "$port" ] || fail "the HTTP server did not start: $(cat "$tmp/server.log")"
url=http://127.0.0.1:$port

run_fetch() {
    FQ_PACK_URL=$url FQ_PACK_TIMEOUT=30 bash "$fetch" "$@" > "$tmp/out" 2> "$tmp/err"
}

# 1. A pack arrives with its files and their bytes.
run_fetch buffalo_sc "$tmp/models" || fail "buffalo_sc did not install"
[ "$(cat "$tmp/models/buffalo_sc/det_500m.onnx")" = "dummy detector" ] ||
    fail "buffalo_sc/det_500m.onnx is missing or wrong"
[ -f "$tmp/models/buffalo_sc/w600k_mbf.onnx" ] || fail "buffalo_sc/w600k_mbf.onnx is missing"
pass "buffalo_sc installs its two models"

# 2. Files inside a folder of the zip are installed flat.
run_fetch buffalo_m "$tmp/models" || fail "buffalo_m did not install"
for f in det_2.5g w600k_r50 1k3d68 2d106det genderage; do
    [ -f "$tmp/models/buffalo_m/$f.onnx" ] || fail "buffalo_m/$f.onnx is missing"
done
pass "a pack whose zip holds a folder is installed flat"

# 3. Installing again replaces the pack and leaves no temporary folder.
run_fetch buffalo_sc "$tmp/models" || fail "reinstalling buffalo_sc failed"
[ -z "$(find "$tmp/models" -maxdepth 1 -name '.*' ! -name . )" ] ||
    fail "temporary folders are left in $tmp/models"
pass "reinstalling replaces the pack without leftovers"

# 4. A zip lacking an expected file is refused and installs nothing.
if run_fetch buffalo_s "$tmp/models"; then fail "an incomplete buffalo_s was accepted"; fi
grep -q "lacks" "$tmp/err" || fail "the refusal does not say what is missing"
[ ! -e "$tmp/models/buffalo_s" ] || fail "an incomplete buffalo_s was installed"
pass "an incomplete zip is refused and installs nothing"

# 5. An unknown pack fails with the list of valid names.
if run_fetch no_such_pack "$tmp/models"; then fail "an unknown pack name was accepted"; fi
grep -q "buffalo_l" "$tmp/err" && grep -q "shared-test" "$tmp/err" ||
    fail "the unknown-pack message does not list the packs"
pass "an unknown pack name fails listing the valid names"

# 6. A known checksum is checked: a wrong one is refused, the right one accepted.
sum=$(sha256sum "$tmp/www/buffalo_sc.zip" | cut -d' ' -f1)
pack_list=$(dirname "$fetch")/packs.tsv
awk -F'\t' -v OFS='\t' -v s=0000 '$1 == "buffalo_sc" { $3 = s } { print }' "$pack_list" \
    > "$tmp/bad_packs.tsv"
awk -F'\t' -v OFS='\t' -v s="$sum" '$1 == "buffalo_sc" { $3 = s } { print }' "$pack_list" \
    > "$tmp/good_packs.tsv"
if FQ_PACKS=$tmp/bad_packs.tsv run_fetch buffalo_sc "$tmp/checked"; then
    fail "a zip with the wrong sha256 was accepted"
fi
grep -q "sha256" "$tmp/err" || fail "the checksum refusal does not mention the sha256"
FQ_PACKS=$tmp/good_packs.tsv run_fetch buffalo_sc "$tmp/checked" ||
    fail "a zip with the right sha256 was refused"
pass "a known sha256 is verified"

# 7. Without a reachable server the script says so and points to FQ_MODELS.
closed_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0));
print(s.getsockname()[1]); s.close()')
if FQ_PACK_URL=http://127.0.0.1:$closed_port FQ_PACK_TIMEOUT=10 bash "$fetch" buffalo_sc \
    "$tmp/offline" > "$tmp/out" 2> "$tmp/err"; then
    fail "a download from a closed port succeeded"
fi
grep -q "FQ_MODELS" "$tmp/err" || fail "the no-network message does not point to FQ_MODELS"
[ ! -e "$tmp/offline/buffalo_sc" ] || fail "a failed download installed something"
pass "no network: a clear message pointing to FQ_MODELS"

# 8. DEST defaults to $FQ_MODELS.
FQ_MODELS=$tmp/env_models run_fetch buffalo_sc || fail "buffalo_sc into \$FQ_MODELS failed"
[ -f "$tmp/env_models/buffalo_sc/det_500m.onnx" ] || fail "DEST did not default to \$FQ_MODELS"
pass "DEST defaults to \$FQ_MODELS"

# 9. shared-test links the files of $FQ_SHARED/models.
mkdir -p "$tmp/shared/models"
echo detector > "$tmp/shared/models/det_500m.onnx"
echo recognizer > "$tmp/shared/models/mobilefacenet_128d.onnx"
FQ_SHARED=$tmp/shared run_fetch shared-test "$tmp/models" || fail "shared-test did not install"
[ "$(cat "$tmp/models/shared-test/mobilefacenet_128d.onnx")" = recognizer ] ||
    fail "shared-test/mobilefacenet_128d.onnx is missing or wrong"
pass "shared-test links the shared models"

echo "$passed checks passed"
