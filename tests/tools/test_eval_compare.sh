#!/usr/bin/env bash
# fq bench, fq eval and fq compare end to end.
#
# usage: test_eval_compare.sh PATH/TO/fq usage   exit codes of bad command lines; needs nothing
#        test_eval_compare.sh PATH/TO/fq models  bench, eval and compare on the shared models
#                                                and photos ($FQ_SHARED, else
#                                                $FQ_SHARED_DEFAULT); skipped (77) without them
#                                                unless FQ_REQUIRE_SHARED=1
set -u

fq=$1
mode=$2
# shellcheck source=cli_lib.sh
. "$(dirname "$0")/cli_lib.sh"

usage_checks() {
    local args
    for args in "eval" "eval a.onnx" "eval a.onnx b.onnx" "eval a.onnx b.onnx c.onnx --inputs d" \
        "eval a.onnx b.onnx --inputs d --threads 0" "eval --bogus a b --inputs d" \
        "compare" "compare a.onnx" "compare a.onnx b.onnx --runs 0" \
        "compare a.onnx b.onnx --input-size 12" "compare --bogus a.onnx b.onnx" \
        "bench" "bench a.onnx b.onnx" "bench a.onnx --runs 0" "bench a.onnx --json --profile" \
        "bench a.onnx --isa nosuch"; do
        # shellcheck disable=SC2086
        expect_code 2 $args
    done
    pass "16 malformed bench, eval and compare command lines exit 2"
    expect_code 0 eval --help
    grep -q "usage: fq eval" "$tmp/out" || fail "eval --help is not on stdout"
    expect_code 0 compare --help
    grep -q "usage: fq compare" "$tmp/out" || fail "compare --help is not on stdout"
    expect_code 0 bench --help
    grep -q -- "--inputs DIR" "$tmp/out" || fail "bench --help does not offer --inputs"
    pass "--help of bench, eval and compare prints the usage on stdout"
    expect_code 1 eval "$tmp/no_such.onnx" "$tmp/no_such.onnx" --inputs "$tmp"
    expect_code 1 compare "$tmp/no_such.onnx" "$tmp/no_such.fqm"
    expect_code 1 bench "$tmp/no_such.onnx"
    pass "missing model files exit 1"
}

bench_checks() {
    local det=$shared/models/det_500m.onnx
    expect_code 0 bench "$det" --runs 5 --warmup 1 --json
    python3 - "$tmp/out" <<'PY' || fail "bench --json: $(cat "$tmp/out")"
import json, sys
lines = open(sys.argv[1]).read().splitlines()
assert len(lines) == 1, "more than one line"
r = json.loads(lines[0])
for key in ["median_ms", "mean_ms", "p90_ms", "min_ms", "fps", "load_ms", "arena_bytes",
            "peak_rss_kib", "threads", "runs", "warmup"]:
    assert isinstance(r[key], (int, float)) and r[key] > 0 or key == "warmup", key
assert r["min_ms"] <= r["median_ms"] <= r["p90_ms"], r
assert abs(r["fps"] - 1000 / r["median_ms"]) < 1e-6 * r["fps"], r
assert r["threads"] == 1 and r["runs"] == 5 and isinstance(r["isa"], str), r
assert r["inputs"] == "random" and r["input_size"] == "640x640", r
assert r["arena_bytes"] > 1e6 and r["peak_rss_kib"] * 1024 > r["arena_bytes"], r
PY
    pass "bench --json prints one object with sane latency, load and memory figures"
    expect_code 0 bench "$det" --runs 3 --warmup 0 --json --inputs "$shared/images/insightface"
    python3 -c 'import json,sys; r = json.load(open(sys.argv[1]));
assert r["inputs"] == "real" and r["real_inputs"] == 2, r' "$tmp/out" ||
        fail "bench --inputs: $(cat "$tmp/out")"
    pass "bench --inputs times the photos of a folder"
    expect_code 0 bench "$det" --runs 3 --warmup 0
    grep -q "^median " "$tmp/out" && grep -q "^peak RSS " "$tmp/out" ||
        fail "bench text output: $(cat "$tmp/out")"
    pass "bench prints a text summary"
    expect_code 0 bench "$det" --runs 2 --warmup 0 --profile
    local top
    top=$(grep -cE '^  [123]\. .*\(.*\): [0-9.]+ ms, [0-9.]+%$' "$tmp/out")
    grep -q "most expensive nodes:" "$tmp/out" && [ "$top" -eq 3 ] ||
        fail "bench --profile does not name the three most expensive nodes: $(cat "$tmp/out")"
    grep -qE "^  QLinearConv|^  Conv " "$tmp/out" || fail "bench --profile has no per-op table"
    pass "bench --profile names the three most expensive nodes and their share"
}

eval_checks() {
    local det=$shared/models/det_500m.onnx rec=$shared/models/mobilefacenet_128d.onnx
    expect_code 0 eval "$det" "$det" --inputs "$shared/images/insightface" --json
    python3 - "$tmp/out" <<'PY' || fail "eval of det_500m against itself: $(cat "$tmp/out")"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["kind"] == "detector" and r["inputs"] == 2, r
assert r["overall"]["cosine_min"] == 1 and r["overall"]["max_abs_error"] == 0, r
assert len(r["outputs"]) == 9 and all(o["cosine_min"] == 1 for o in r["outputs"]), r
f = r["faces"]
assert f["reference_faces"] >= 6 and f["matched"] == f["reference_faces"], f
assert f["extra"] == 0 and f["landmark_error_percent"] == 0, f
PY
    pass "eval of a detector against itself: cosine 1 and every face matched"
    expect_code 0 eval "$rec" "$rec" --inputs "$shared/images/insightface_small_lfw_aligned112"
    grep -q "embedding  cosine mean 1.000000, min 1.000000" "$tmp/out" ||
        fail "eval of a recognizer against itself: $(cat "$tmp/out")"
    pass "eval of a recognizer against itself: embedding cosine 1"
    expect_code 1 eval "$det" "$rec" --inputs "$shared/images/insightface"
    grep -q "fixed at 112" "$tmp/err" || fail "eval of models of different input sizes: message"
    expect_code 1 eval "$det" "$shared/models/scrfd_500m_bnkps_640x640.onnx" \
        --inputs "$shared/images/insightface"
    grep -q "differs in dtype or shape" "$tmp/err" || fail "eval of different outputs: message"
    pass "eval refuses models with different graph inputs or outputs, naming what differs"
}

compare_checks() {
    local det=$shared/models/det_500m.onnx
    expect_code 0 convert "$det" -o "$tmp/det_500m.fqm"
    expect_code 0 compare "$det=fp32" "$tmp/det_500m.fqm=fqm" --runs 3 --warmup 1
    grep -q "seeded random inputs" "$tmp/out" || fail "compare without --inputs does not say so"
    grep -q "^fp32 .*reference" "$tmp/out" && grep -q "^fqm " "$tmp/out" ||
        fail "compare table: $(cat "$tmp/out")"
    pass "compare prints a table and says when agreement is on random inputs"
    expect_code 0 compare "$det=fp32" "$tmp/det_500m.fqm=fqm" --runs 3 --warmup 1 --json \
        --inputs "$shared/images/insightface" --svg "$tmp/chart.svg"
    python3 - "$tmp/out" <<'PY' || fail "compare --json: $(cat "$tmp/out")"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["random_inputs"] is False and r["inputs"] == 2, r
a, b = r["variants"]
assert a["label"] == "fp32" and b["label"] == "fqm" and a["agreement"] is None, r
for v in (a, b):
    assert v["file_bytes"] > 1e6 and v["min_ms"] <= v["median_ms"] and v["load_ms"] > 0, v
assert b["agreement"]["overall"]["cosine_min"] > 0.9999, b
assert b["agreement"]["faces"]["recall"] == 1, b
PY
    pass "compare --json of an .onnx and its .fqm: one object, the .fqm agrees"
    if python3 -c 'import xml.etree.ElementTree' 2> /dev/null; then
        python3 - "$tmp/chart.svg" <<'PY' || fail "the SVG is not valid XML with both bars"
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
assert root.tag == "{http://www.w3.org/2000/svg}svg", root.tag
texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
assert texts.count("fp32") == 2 and texts.count("fqm") == 2, texts
assert len(list(root.iter("{http://www.w3.org/2000/svg}rect"))) == 5
PY
    else
        grep -q "<svg " "$tmp/chart.svg" && grep -q "</svg>" "$tmp/chart.svg" ||
            fail "the SVG file is incomplete"
    fi
    pass "compare --svg writes a valid SVG bar chart of latency and size"
}

# With fq quantize in the build: an fp16 variant in the comparison follows the float model.
quantized_checks() {
    local det=$shared/models/det_500m.onnx
    run quantize --help
    if [ "$code" -ne 0 ]; then
        echo "note: fq quantize is not in this build; quantized variants not compared"
        return
    fi
    expect_code 0 quantize "$det" --type fp16 -o "$tmp/det_500m_fp16.fqm"
    expect_code 0 compare "$det=fp32" "$tmp/det_500m_fp16.fqm=fp16" --runs 2 --warmup 0 \
        --json --inputs "$shared/images/insightface"
    python3 - "$tmp/out" <<'PY' || fail "compare with fp16: $(cat "$tmp/out")"
import json, sys
b = json.load(open(sys.argv[1]))["variants"][1]
assert b["file_bytes"] < 0.6 * json.load(open(sys.argv[1]))["variants"][0]["file_bytes"], b
assert b["agreement"]["overall"]["cosine_mean"] > 0.999, b
assert b["agreement"]["faces"]["recall"] >= 0.98, b
assert b["agreement"]["faces"]["landmark_error_percent"] < 2, b
PY
    pass "compare of det_500m fp32 and fp16: smaller, cosine > 0.999, faces found"
}

case $mode in
    usage) usage_checks ;;
    models)
        find_shared
        export FQ_SHARED=$shared
        unset FQ_MODELS FQ_CARDS
        bench_checks
        eval_checks
        compare_checks
        quantized_checks
        ;;
    *) echo "usage: test_eval_compare.sh FQ usage|models" >&2; exit 2 ;;
esac
echo "$passed checks passed"
