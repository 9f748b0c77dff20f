# What the command-line tests share (sourced, not run): a scratch folder, pass/fail counting,
# running fq with its output captured, and finding the shared folder.
#
# The sourcing script sets $fq (the fq binary) first; after sourcing, $tmp is a scratch folder
# removed on exit, `run ARGS...` runs fq with stdout in $tmp/out, stderr in $tmp/err and the
# exit status in $code, `expect_code N ARGS...` fails unless it exits N, and `find_shared` sets
# $shared or exits 77 (skipped) without the shared folder, or 1 when FQ_REQUIRE_SHARED=1.

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0

fail() {
    echo "FAIL: $*" >&2
    [ ! -f "$tmp/err" ] || sed 's/^/  stderr: /' "$tmp/err" >&2
    exit 1
}

pass() {
    passed=$((passed + 1))
    echo "ok: $*"
}

run() {
    "$fq" "$@" > "$tmp/out" 2> "$tmp/err"
    code=$?
}

expect_code() {
    local want=$1
    shift
    run "$@"
    [ "$code" -eq "$want" ] || fail "fq $* exited $code, expected $want"
}

find_shared() {
    local dir=${FQ_SHARED:-${FQ_SHARED_DEFAULT:-}}
    if [ -n "$dir" ] && [ -d "$dir/models" ] && [ -d "$dir/images" ]; then
        shared=$(cd "$dir" && pwd)
        return
    fi
    if [ "${FQ_REQUIRE_SHARED:-}" = 1 ]; then
        echo "FAIL: the shared folder is missing (set FQ_SHARED); FQ_REQUIRE_SHARED=1" >&2
        exit 1
    fi
    echo "skipped: the shared folder (models, images) is missing; set FQ_SHARED to run this"
    exit 77
}
