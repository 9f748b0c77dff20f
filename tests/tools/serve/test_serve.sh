#!/usr/bin/env bash
# fq serve end to end, with curl on a loopback port the server picks (--port 0): every endpoint
# with good input, the malformed-input suite, detection during a quantization, and a bounded
# load run (no 5xx, healthy afterwards, resident memory grown by less than 10 MB).
#
# usage: test_serve.sh PATH/TO/fq
# Needs the shared models and photos ($FQ_SHARED, else $FQ_SHARED_DEFAULT); skipped (77)
# without them unless FQ_REQUIRE_SHARED=1. SERVE_LOAD_SECONDS sets the load run (default 20),
# SERVE_LOAD_TYPES the detector variants it runs on, one run each (default fp32; the int8
# variant exists once the tests above have quantized it). FQ_SANITIZED=1 (the sanitizer stage of
# scripts/run-tests.sh) drops the resident-memory bound, which an ASan quarantine breaks.
set -u

fq=$1
load_seconds=${SERVE_LOAD_SECONDS:-20}
load_types=${SERVE_LOAD_TYPES:-fp32}
tmp=$(mktemp -d)
server_pid=""
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
    [ ! -f "$tmp/body" ] || sed 's/^/  last body: /' "$tmp/body" | head -c 2000 >&2
    echo >&2
    [ ! -f "$tmp/server.log" ] || tail -20 "$tmp/server.log" | sed 's/^/  server: /' >&2
    exit 1
}
pass() {
    passed=$((passed + 1))
    echo "ok: $*"
}

shared=${FQ_SHARED:-${FQ_SHARED_DEFAULT:-}}
if [ -z "$shared" ] || [ ! -f "$shared/models/det_500m.onnx" ] ||
    [ ! -f "$shared/models/mobilefacenet_128d.onnx" ]; then
    if [ "${FQ_REQUIRE_SHARED:-}" = 1 ]; then
        echo "FAIL: the shared folder is missing (set FQ_SHARED); FQ_REQUIRE_SHARED=1" >&2
        exit 1
    fi
    echo "SKIP: no shared models (set FQ_SHARED to the shared folder)"
    exit 77
fi
models=$shared/models
images=$shared/images
photo=$images/insightface/t1.jpg
work=$tmp/work

# ---- the server ----

start_server() {
    : > "$tmp/server.log"
    "$fq" serve --models "$models" --work-dir "$work" --port 0 --threads 2 \
        --max-upload-mb 4 --max-image-side 3000 2> "$tmp/server.log" &
    server_pid=$!
    for _ in $(seq 1 200); do
        port=$(sed -n 's/.*listening on http:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p' \
            "$tmp/server.log")
        [ -n "$port" ] && break
        kill -0 "$server_pid" 2>/dev/null || fail "fq serve exited at start"
        sleep 0.1
    done
    [ -n "$port" ] || fail "fq serve did not report its port within 20 s"
    url=http://127.0.0.1:$port
}

# req WANT_CODE PATH CURL_ARGS...: the answer's body in $tmp/body, its status in $code.
req() {
    local want=$1 path=$2
    shift 2
    code=$(curl -s -o "$tmp/body" -w '%{http_code}' --max-time 60 "$@" "$url$path")
    [ "$code" = "$want" ] || fail "$path $* answered $code, expected $want"
    if [ "$want" = 200 ]; then
        grep -q '"success":true' "$tmp/body" || fail "$path $*: no success true"
    else
        grep -q '"success":false,"error":"' "$tmp/body" || fail "$path $*: no JSON error"
    fi
}

body_has() {
    grep -q -- "$1" "$tmp/body" || fail "the answer lacks $1"
}

# Python reads the JSON answers where grep cannot.
json() {
    python3 -c "import json,sys; d=json.load(open('$tmp/body')); $1"
}

detect=/quantization/mobile/detect_faces
recognize=/quantization/mobile/recognize_faces
convert=/quantization/convert_model
quantize=/quantization/quantize_model

# ---- every endpoint with good input ----

good_input() {
    req 200 /health
    body_has '"status":"ok"'
    pass "GET /health answers status ok"

    req 200 /models
    json "m={x['name']: x for x in d['models']}; assert m['det_500m']['role'] == 'detector'; \
assert 'fp32' in m['det_500m']['variants']; assert 'int8' not in m['det_500m']['variants']"
    pass "GET /models lists det_500m as a detector with its fp32 variant"

    req 200 $detect -F image=@"$photo"
    json "assert len(d['faces']) == 6, d; f=d['faces'][0]; \
assert len(f['box']) == 4 and len(f['kps']) == 5 and f['score'] > 0.5; \
assert d['inference_ms'] > 0"
    pass "detect_faces finds the 6 faces of t1.jpg with boxes, scores, landmarks, timing"

    req 200 $detect -F image=@"$photo" -F confidence_threshold=0.87 -F model_type=fp32
    json "assert 0 < len(d['faces']) < 6 and min(f['score'] for f in d['faces']) >= 0.87"
    pass "detect_faces keeps only the faces at or above confidence_threshold"

    req 200 $recognize -F image=@"$images/face_recognition/test/obama1.jpg"
    json "open('$tmp/known', 'w').write(json.dumps([d['faces'][0]['embedding']])); \
assert d['faces'][0]['label'] is None and len(d['faces'][0]['embedding']) == 128"
    req 200 $recognize -F image=@"$images/face_recognition/extra/obama3.jpg" \
        -F known_embeddings="<$tmp/known" -F 'known_labels=["obama"]'
    json "f=d['faces'][0]; assert f['label'] == 'obama' and f['similarity'] > 0.46, f"
    req 200 $recognize -F image=@"$images/face_recognition/test/alex_lacamoire1.jpg" \
        -F known_embeddings="<$tmp/known" -F 'known_labels=["obama"]'
    json "assert all(f['label'] is None for f in d['faces']), d['faces']"
    pass "recognize_faces names a known person and leaves a stranger unnamed"

    req 200 $convert -F model_name=shared-test -F input_width=640 -F input_height=480
    json "assert d['detection_model']['input_size'] == '640x480'; \
assert d['recognition_model']['path'].endswith('/mobilefacenet_128d.fqm')"
    [ -s "$work/det_500m.fqm" ] && [ -s "$work/mobilefacenet_128d.fqm" ] ||
        fail "convert_model wrote no .fqm files"
    pass "convert_model converts both models of a pack into the work directory"

    req 200 $convert -F model_name=yunet_n_640_640.onnx
    json "assert 'detection_model' in d and 'recognition_model' not in d"
    pass "convert_model converts a single model file"

    req 404 $detect -F image=@"$photo" -F model_type=fp16
    body_has 'variants that exist: fp32'
    pass "a missing variant is 404 naming the variants that exist"

    req 200 $quantize -F model_path=det_500m.onnx -F quantization_type=fp16
    json "assert d['output_path'].endswith('/det_500m.fp16.fqm') and d['size_bytes'] > 0"
    req 200 $detect -F image=@"$photo" -F model_type=fp16
    json "assert len(d['faces']) == 6 and d['model_type'] == 'fp16'"
    pass "quantize_model fp16, then detect_faces with model_type fp16"

    req 200 $quantize -F model_path=mobilefacenet_128d.onnx -F quantization_type=dynamic
    req 200 $quantize -F model_path=det_500m.onnx -F quantization_type=dynamic
    req 200 $recognize -F image=@"$photo" -F model_type=dynamic
    json "assert len(d['faces']) == 6 and len(d['faces'][0]['embedding']) == 128"
    pass "quantize_model dynamic for both models, then recognize_faces with model_type dynamic"

    local calib=() f
    for f in "$images"/face_recognition/train/*/*.jpg; do
        calib+=(-F "calibration_images=@$f")
    done
    req 200 $quantize -F model_path=det_500m.onnx -F quantization_type=int8 "${calib[@]}"
    json "a=d['accuracy']; assert a['measured'] and a['inputs'] > 0, a"
    req 200 $detect -F image=@"$photo" -F model_type=int8
    json "assert d['model_type'] == 'int8' and len(d['faces']) > 0"
    req 200 /models
    json "m={x['name']: x for x in d['models']}; \
assert set(m['det_500m']['variants']) == {'fp32', 'fp16', 'int8', 'dynamic'}, m['det_500m']"
    pass "quantize_model int8 on uploads, detect_faces with int8, GET /models lists all variants"
}

# ---- the malformed-input suite ----

bad_input() {
    local truncated=$'--XX\r\nContent-Disposition: form-data; name="image"; filename="a.jpg"'
    req 400 $detect -H 'Content-Type: multipart/form-data; boundary=XX' \
        --data-binary "$truncated"$'\r\n\r\nabc'
    req 400 $detect -H 'Content-Type: multipart/form-data' --data-binary 'no boundary'
    req 400 $detect -d image=abc
    pass "malformed multipart (truncated part, no boundary) and a urlencoded body are 400"

    req 400 $detect -F model_type=fp32
    body_has "missing field 'image'"
    req 400 $detect -F image=@"$photo" -F colour=red
    body_has "unknown field 'colour'"
    req 400 $detect -F image=@"$photo" -F image=@"$photo"
    req 400 $quantize -F model_path=det_500m.onnx
    body_has "missing field 'quantization_type'"
    pass "missing, unknown and repeated fields are 400 naming the field"

    req 400 $detect -F image=not-a-file
    req 400 $detect -F image=@"$photo" -F confidence_threshold=high
    req 400 $detect -F image=@"$photo" -F confidence_threshold=7
    req 400 $detect -F image=@"$photo" -F model_type=int4
    req 400 $convert -F model_name=det_500m -F input_width=wide -F input_height=480
    req 400 $quantize -F model_path=det_500m.onnx -F quantization_type=int16
    req 400 $quantize -F model_path=@"$photo" -F quantization_type=fp16
    req 400 $recognize -F image=@"$photo" -F known_embeddings='not json' -F known_labels='[]'
    pass "wrong types (value for a file, words for numbers, unknown types) are 400"

    head -c $((5 << 20)) /dev/zero > "$tmp/big.jpg"
    req 413 $detect -F image=@"$tmp/big.jpg"
    body_has "limit"
    req 413 $detect -H 'Transfer-Encoding: chunked' -F image=@"$tmp/big.jpg"
    body_has "limit"
    pass "an upload over --max-upload-mb is 413, with or without Content-Length"

    { printf 'P6\n3100 8\n255\n'; head -c $((3100 * 8 * 3)) /dev/zero; } > "$tmp/wide.ppm"
    req 400 $detect -F image=@"$tmp/wide.ppm"
    body_has "limit of 3000"
    pass "an image over --max-image-side is 400 naming the limit"

    head -c 3000 "$photo" > "$tmp/corrupt.jpg"
    req 400 $detect -F image=@"$tmp/corrupt.jpg"
    printf 'GIF89a not really' > "$tmp/fake.png"
    req 400 $detect -F image=@"$tmp/fake.png"
    pass "a truncated JPEG and a GIF named .png are 400"

    cp "$photo" "$tmp/photo.webp"
    req 200 $detect -F image=@"$tmp/photo.webp"
    json "assert len(d['faces']) == 6"
    pass "a JPEG named .webp is decoded by its bytes"

    req 400 $recognize -F image=@"$photo" -F 'known_embeddings=[[0.1, 0.2, 0.3]]' \
        -F 'known_labels=["x"]'
    body_has "has 3 numbers"
    req 400 $recognize -F image=@"$photo" -F 'known_embeddings=[[0.1, "a"]]' \
        -F 'known_labels=["x"]'
    req 400 $recognize -F image=@"$photo" -F "known_embeddings=<$tmp/known" \
        -F 'known_labels=["x", "y"]'
    req 400 $recognize -F image=@"$photo" -F "known_embeddings=<$tmp/known"
    pass "embeddings of the wrong size or type, and labels that do not match, are 400"

    req 400 $quantize -F model_path=../models/det_500m.onnx -F quantization_type=fp16
    req 400 $quantize -F model_path=sub/../../x.onnx -F quantization_type=fp16
    req 400 $quantize -F model_path=/etc/passwd -F quantization_type=fp16
    ln -s /etc/passwd "$work/escape.onnx"
    req 400 $quantize -F model_path=escape.onnx -F quantization_type=fp16
    body_has "leads outside"
    ln -s /etc "$work/etc"
    req 400 $quantize -F model_path=etc/passwd -F quantization_type=fp16
    req 404 $quantize -F model_path=nothing.onnx -F quantization_type=fp16
    req 400 $convert -F model_name=../det_500m
    req 404 $convert -F model_name=nothing
    pass "path traversal (../, absolute, symbolic links) is 400, a missing model 404"

    req 400 $quantize -F model_path=det_500m.onnx -F quantization_type=int8
    body_has "calibration_images"
    pass "int8 without calibration images is 400"

    req 404 /nothing
    req 405 $detect
    req 405 /health -F x=1
    pass "an unknown endpoint is 404, a wrong method 405"

    req 200 /health
    pass "the server is healthy after the malformed-input suite"
}

# ---- detection while a quantization runs ----

detect_during_quantize() {
    local calib=() f
    for f in "$images"/lfw/*/*.jpg; do
        calib+=(-F "calibration_images=@$f")
    done
    curl -s -o "$tmp/quant.json" -w '%{http_code}' --max-time 120 -F model_path=det_2.5g.onnx \
        -F quantization_type=int8 "${calib[@]}" "$url$quantize" > "$tmp/quant.code" &
    local quant_pid=$! during=0 t
    : > "$tmp/during"
    while kill -0 "$quant_pid" 2>/dev/null; do
        t=$(curl -s -o "$tmp/body" -w '%{http_code} %{time_total}' -F image=@"$photo" \
            "$url$detect")
        [ "${t%% *}" = 200 ] || fail "detect during the quantization answered ${t%% *}"
        if kill -0 "$quant_pid" 2>/dev/null; then
            during=$((during + 1))
            echo "${t#* }" >> "$tmp/during"
        fi
    done
    wait "$quant_pid"
    local quant_code
    quant_code=$(cat "$tmp/quant.code")
    [ "$quant_code" = 200 ] || fail "the quantization answered $quant_code"
    [ "$during" -ge 1 ] || fail "no detection was answered while the quantization ran"
    local median
    median=$(sort -n "$tmp/during" | awk '{a[NR]=$1} END {print a[int((NR+1)/2)] * 1000}')
    echo "figure: detect_faces during an int8 quantization: $during answered, median $median ms"
    pass "detect_faces keeps being answered while a quantization runs"
}

# ---- the load run ----

rss_kb() {
    sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$server_pid/status"
}

load_worker() {
    local end=$1 out=$2 type=$3
    while [ "$(date +%s)" -lt "$end" ]; do
        curl -s -o /dev/null -w '%{http_code} %{time_total}\n' --max-time 30 \
            -F image=@"$photo" -F model_type="$type" "$url$detect" >> "$out"
    done
}

# load_run TYPE: parallel detect_faces requests on the TYPE detector for $load_seconds s.
load_run() {
    local type=$1 w pids=()
    # A warm-up, so every session the load needs exists before the first measure.
    for w in 1 2 3 4 5 6 7 8; do
        curl -s -o /dev/null -F image=@"$photo" -F model_type="$type" "$url$detect" &
        pids+=($!)
    done
    wait "${pids[@]}"
    local before end start
    before=$(rss_kb)
    start=$(date +%s.%N)
    end=$(($(date +%s) + load_seconds))
    pids=()
    for w in 1 2 3; do
        load_worker "$end" "$tmp/load.$w" "$type" &
        pids+=($!)
    done
    wait "${pids[@]}"
    local elapsed after
    elapsed=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN {print b - a}')
    after=$(rss_kb)
    cat "$tmp"/load.* > "$tmp/load"
    rm -f "$tmp"/load.*
    local total fivexx
    total=$(wc -l < "$tmp/load")
    fivexx=$(awk '$1 >= 500 || $1 == "000"' "$tmp/load" | wc -l)
    [ "$total" -gt 0 ] || fail "the load run made no request"
    [ "$fivexx" -eq 0 ] || fail "$fivexx of $total requests of the load run failed (5xx or none)"
    awk '$1 != 200' "$tmp/load" | grep -q . && fail "a load request was not answered 200"
    req 200 /health
    local grown=$((after - before))
    echo "figure: load run: $total detect_faces requests in $elapsed s from 3 curl loops," \
        "RSS $before kB -> $after kB"
    sort -n -k2 "$tmp/load" | awk -v n="$total" -v s="$elapsed" -v type="$type" '{a[NR]=$2} END {
        printf "figure: detect_faces " type ", 2 server threads: %.1f requests/s, p50 %.1f ms, " \
               "p99 %.1f ms\n", n / s, a[int(n * 0.50 + 0.5)] * 1000,
               a[int(n * 0.99 + 0.5)] * 1000}'
    if [ "${FQ_SANITIZED:-}" = 1 ]; then
        # AddressSanitizer keeps freed blocks in a quarantine that stays resident: the growth
        # measures the quarantine, not the server (the release stage holds the bound).
        pass "load run on $type: no 5xx, healthy afterwards (RSS +$grown kB in a sanitizer" \
            "build: not bounded)"
        return
    fi
    [ "$grown" -lt 10240 ] || fail "resident memory grew by $grown kB during the load run"
    pass "load run on $type: no 5xx, healthy afterwards, RSS grown by $grown kB (< 10 MB)"
}

mkdir -p "$work"
start_server
good_input
bad_input
detect_during_quantize
for type in $load_types; do
    load_run "$type"
done
echo "$passed checks passed"
