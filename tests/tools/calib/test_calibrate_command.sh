#!/usr/bin/env bash
# fq calibrate end to end.
#
# usage: test_calibrate_command.sh PATH/TO/fq usage  exit codes and messages; needs nothing
#        test_calibrate_command.sh PATH/TO/fq rss    det_500m and mobilefacenet_128d on the
#                                                    shared photos, 10 then 40 inputs: the
#                                                    statistics take the same bytes, and the
#                                                    peak RSS (/usr/bin/time -v) does not grow
#                                                    by more than 4 MiB; skipped (77) without
#                                                    the shared folder unless FQ_REQUIRE_SHARED=1
set -u

fq=$1
mode=$2
# shellcheck source=cli_lib.sh
. "$(dirname "$0")/../cli_lib.sh"

usage_checks() {
    expect_code 0 calibrate --help
    grep -q "usage: fq calibrate" "$tmp/out" || fail "calibrate --help is not on stdout"
    pass "--help prints the usage on stdout"
    local args
    for args in "calibrate" "calibrate m.onnx" "calibrate m.onnx --calib d" \
        "calibrate m.onnx -o s" "calibrate m.onnx --calib d -o s --method kl" \
        "calibrate m.onnx --calib d -o s --percentile 0" \
        "calibrate m.onnx --calib d -o s --percentile 101" \
        "calibrate m.onnx --calib d -o s --input-size 12" \
        "calibrate m.onnx --calib d -o s --inputs 0" "calibrate --bogus m.onnx"; do
        # shellcheck disable=SC2086
        expect_code 2 $args
    done
    pass "10 malformed command lines exit 2"
    expect_code 1 calibrate "$tmp/missing.onnx" --calib "$tmp" -o "$tmp/s"
    grep -q "does not exist" "$tmp/err" || fail "a missing model is not named"
    pass "a missing model fails with exit 1"
}

# Peak RSS in KiB of `fq calibrate MODEL --inputs N`, and the statistics bytes it reports.
# Runs fq calibrate on INPUTS inputs; sets $bytes (the statistics' memory, which the test
# asserts) and $rss (peak RSS in KiB from /usr/bin/time when it is there: a figure to report,
# not asserted, since allocators and sanitizers move it).
measure() {
    local model=$1 inputs=$2
    local timer=()
    [ -x /usr/bin/time ] && timer=(/usr/bin/time -v)
    "${timer[@]}" "$fq" calibrate "$model" --calib "$shared/images" --inputs "$inputs" \
        -o "$tmp/$model.$inputs.stats" > "$tmp/out" 2> "$tmp/err" ||
        fail "fq calibrate $model --inputs $inputs failed"
    rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$tmp/err")
    rss=${rss:-unmeasured}
    bytes=$(sed -n 's/.*statistics memory \([0-9]*\) bytes.*/\1/p' "$tmp/err")
    [ -n "$bytes" ] || fail "no statistics size in the output"
    grep -q "$inputs inputs from" "$tmp/err" || fail "$model did not run $inputs inputs"
}

# Progress only on a terminal or with --progress; an empty folder is an error.
progress_checks() {
    run calibrate det_500m --calib "$shared/images" --inputs 2 --input-size 160x160 \
        -o "$tmp/small.stats"
    [ "$code" -eq 0 ] || fail "calibrate --inputs 2 exited $code"
    ! grep -q "images/s" "$tmp/err" || fail "progress shown on a stderr that is not a terminal"
    run calibrate det_500m --calib "$shared/images" --inputs 2 --input-size 160x160 \
        --progress -o "$tmp/small.stats"
    grep -q "2/2 images, .* images/s, .* left" "$tmp/err" || fail "--progress shows no progress"
    pass "progress on stderr only with --progress (or a terminal)"
    mkdir -p "$tmp/empty"
    echo "not a photo" > "$tmp/empty/readme.txt"
    expect_code 1 calibrate det_500m --calib "$tmp/empty" -o "$tmp/none.stats"
    grep -q "no image" "$tmp/err" || fail "an empty folder is not explained"
    pass "a folder without images fails with exit 1"
}

rss_checks() {
    progress_checks
    local model
    for model in det_500m mobilefacenet_128d; do
        measure "$model" 10
        local rss10=$rss bytes10=$bytes
        grep -q "more calibration images give better scales" "$tmp/err" ||
            fail "no warning about fewer than 100 images"
        local lines
        lines=$(grep -c . "$tmp/out")
        [ "$lines" -gt 10 ] || fail "$model: the summary has $lines lines"
        measure "$model" 40
        echo "$model: peak RSS $rss10 KiB for 10 inputs, $rss KiB for 40;" \
            "statistics $bytes10 and $bytes bytes"
        [ "$bytes" -eq "$bytes10" ] || fail "$model: statistics grew from $bytes10 to $bytes"
        [ -s "$tmp/$model.40.stats" ] || fail "$model: no statistics file"
        pass "$model: statistics memory does not grow from 10 to 40 inputs"
    done
}

case $mode in
usage) usage_checks ;;
rss)
    shared=${FQ_SHARED:-${FQ_SHARED_DEFAULT:-}}
    if [ -z "$shared" ] || [ ! -d "$shared/models" ]; then
        [ "${FQ_REQUIRE_SHARED:-0}" = 1 ] && fail "the shared folder is missing"
        echo "skipped: the shared folder is missing; set FQ_SHARED"
        exit 77
    fi
    export FQ_SHARED=$shared
    rss_checks
    ;;
*) fail "unknown mode $mode" ;;
esac
echo "$passed checks passed"
