#!/usr/bin/env bash
# The face commands end to end.
#
# usage: test_commands.sh PATH/TO/fq usage     exit codes and messages; needs nothing
#        test_commands.sh PATH/TO/fq pipeline  detect, enroll, gallery, recognize, verify on the
#                                              shared models and photos ($FQ_SHARED, else
#                                              $FQ_SHARED_DEFAULT); skipped (77) without them
#                                              unless FQ_REQUIRE_SHARED=1
set -u

fq=$1
mode=$2
# shellcheck source=cli_lib.sh
. "$(dirname "$0")/cli_lib.sh"
root=$(cd "$(dirname "$0")/../.." && pwd)

usage_checks() {
    expect_code 2
    pass "fq without a command is a usage error"
    expect_code 0 detect --help
    grep -q "usage: fq detect" "$tmp/out" || fail "detect --help is not on stdout"
    grep -q "FQ_MODELS" "$tmp/out" || fail "detect --help does not state the model lookup"
    pass "--help prints the usage and the model lookup on stdout"
    local args
    for args in "detect" "detect --bogus x.jpg" "detect --input-size 12 x.jpg" \
        "detect --threshold 2 x.jpg" "detect --max-faces -1 x.jpg" "enroll dir" \
        "enroll --gallery g.db" "recognize x.jpg" "recognize --gallery g.db" "verify" \
        "verify a.tsv b.tsv" "gallery" "gallery frobnicate g.db" "gallery remove g.db" \
        "verify --threshold 7 a.tsv"; do
        # shellcheck disable=SC2086
        expect_code 2 $args
    done
    pass "15 malformed command lines exit 2"
    expect_code 2 detect a/x.jpg b/x.jpg --draw "$tmp/drawn"
    grep -q "stem" "$tmp/err" || fail "the --draw stem clash is not explained"
    pass "--draw with several images refuses two images of one stem"
    expect_code 1 verify "$tmp/no_such.tsv"
    expect_code 1 gallery list "$tmp/no_such.db"
    expect_code 1 gallery remove "$tmp/no_such.db" someone
    expect_code 1 enroll "$tmp/no_such_dir" --gallery "$tmp/g.db"
    [ ! -e "$tmp/g.db" ] || fail "a failed enroll created the gallery"
    pass "missing files exit 1"
    expect_code 1 detect "$tmp/x.jpg" --model "$tmp/no_such_model.onnx"
    pass "a missing model file exits 1"
}

# Checks the detect JSON of t1.jpg: the exact layout, 6 faces, boxes inside the image.
check_detect_json() {
    python3 - "$1" <<'EOF'
import json, sys
doc = json.load(open(sys.argv[1]))
assert list(doc) == ["images"], doc.keys()
(image,) = doc["images"]
assert list(image) == ["image", "width", "height", "faces"], image.keys()
w, h = image["width"], image["height"]
assert (w, h) == (1280, 886), (w, h)
faces = image["faces"]
assert len(faces) == 6, f"{len(faces)} faces"
for face in faces:
    assert list(face) == ["box", "score", "kps"], face.keys()
    x1, y1, x2, y2 = face["box"]
    assert 0 <= x1 < x2 <= w and 0 <= y1 < y2 <= h, face["box"]
    assert 20 <= x2 - x1 <= w / 2, face["box"]
    assert 0.5 <= face["score"] <= 1, face["score"]
    assert len(face["kps"]) == 5 and all(len(p) == 2 for p in face["kps"])
    for x, y in face["kps"]:
        assert x1 <= x <= x2 and y1 <= y <= y2, (face["box"], x, y)
EOF
}

is_png() {
    [ "$(head -c 8 "$1" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ]
}

detect_checks() {
    local t1=$shared/images/insightface/t1.jpg
    expect_code 0 detect "$t1" --json
    check_detect_json "$tmp/out" || fail "detect --json on t1.jpg"
    pass "detect --json finds the 6 faces of t1.jpg inside the image"
    expect_code 0 detect "$t1"
    grep -q "6 faces" "$tmp/out" || fail "the text output does not count 6 faces"
    pass "detect prints a text summary"
    expect_code 0 detect "$t1" --max-faces 2 --json
    python3 -c 'import json,sys
assert len(json.load(open(sys.argv[1]))["images"][0]["faces"]) == 2' \
        "$tmp/out" || fail "--max-faces 2 did not keep 2 faces"
    pass "--max-faces keeps the best N"
    expect_code 0 detect "$t1" --draw "$tmp/t1_drawn.png"
    is_png "$tmp/t1_drawn.png" || fail "--draw did not write a PNG"
    pass "--draw writes a PNG"
    expect_code 0 detect "$t1" "$shared/images/face_recognition/test/obama1.jpg" \
        --draw "$tmp/drawn"
    is_png "$tmp/drawn/t1.png" && is_png "$tmp/drawn/obama1.png" ||
        fail "--draw with several images did not write DIR/STEM.png"
    pass "--draw with several images writes one PNG per image in the folder"
    expect_code 1 detect "$t1" --model no_such_detector
    grep -q "det_500m" "$tmp/err" || fail "an unknown model name does not list the models"
    pass "an unknown model name exits 1 listing the models"
    expect_code 1 detect "$tmp/no_such.jpg"
    pass "a missing image exits 1"
}

# The name recognize gives the first face of an image.
recognized_name() {
    run recognize "$1" --gallery "$tmp/people.db" --json
    [ "$code" -eq 0 ] || fail "recognize $1 exited $code"
    python3 -c 'import json,sys; f = json.load(open(sys.argv[1]))["images"][0]["faces"];
print(f[0]["name"] if f else "no face")' "$tmp/out"
}

gallery_checks() {
    local images=$shared/images/face_recognition
    expect_code 0 enroll "$images/train" --gallery "$tmp/people.db"
    grep -q "enrolled 5 people" "$tmp/out" || fail "enroll summary: $(cat "$tmp/out")"
    grep -q "9 faces from 9 images" "$tmp/out" || fail "enroll summary: $(cat "$tmp/out")"
    pass "enroll adds the 5 people of face_recognition/train (9 faces)"
    expect_code 0 gallery list "$tmp/people.db"
    [ "$(grep -vc '^#' "$tmp/out")" -eq 5 ] || fail "gallery list does not show 5 people"
    grep -q "^obama	2$" "$tmp/out" || fail "gallery list does not show obama with 2"
    pass "gallery list shows the people and their embedding counts"
    expect_code 0 enroll "$images/train" --gallery "$tmp/people.db"
    grep -q "5 already enrolled" "$tmp/out" || fail "a second enroll did not skip everyone"
    pass "enrolling again skips the people already there"

    local img want got
    for pair in "test/obama1.jpg obama" "test/johnsnow_test1.jpg kit_harington" \
        "test/alex_lacamoire1.jpg alex_lacamoire" "extra/obama_small.jpg obama"; do
        img=${pair% *}
        want=${pair#* }
        got=$(recognized_name "$images/$img")
        [ "$got" = "$want" ] || fail "recognize $img named '$got', expected '$want'"
    done
    pass "recognize names held-out photos of 3 enrolled people"

    expect_code 1 recognize "$images/test/obama1.jpg" --gallery "$tmp/people.db" \
        --recognizer synthetic_iresnet50_slim
    grep -q "people.db" "$tmp/err" && grep -q "mobilefacenet_128d" "$tmp/err" ||
        fail "recognize with another recognizer is not refused by name"
    expect_code 1 enroll "$images/train" --gallery "$tmp/people.db" \
        --recognizer synthetic_iresnet50_slim
    grep -q "synthetic_iresnet50_slim" "$tmp/err" || fail "enroll with another model: message"
    pass "a gallery refuses another recognizer, naming both"

    expect_code 0 gallery remove "$tmp/people.db" obama
    expect_code 0 gallery list "$tmp/people.db" --json
    python3 -c 'import json,sys; d = json.load(open(sys.argv[1]));
assert sorted(p["name"] for p in d["people"]) == ["alex_lacamoire", "biden", "kit_harington",
    "rose_leslie"], d; assert d["embedding_size"] == 128' "$tmp/out" ||
        fail "gallery list --json after removing obama"
    got=$(recognized_name "$images/test/obama1.jpg")
    [ "$got" != obama ] || fail "a removed person is still recognized"
    expect_code 1 gallery remove "$tmp/people.db" obama
    pass "gallery remove takes a person out; removing them twice exits 1"
}

# Pairs over every named single-face photo of the shared images (identities from
# MANIFEST.tsv) and the pre-aligned LFW crop pairs; paths relative to the pairs file.
make_pairs() {
    ln -s "$shared/images" "$tmp/images"
    python3 "$root/scripts/make-pairs.py" "$shared/images" > "$tmp/pairs.tsv"
}

verify_checks() {
    make_pairs || fail "could not build the pairs file"
    expect_code 0 verify "$tmp/pairs.tsv" --json
    python3 - "$tmp/out" <<'EOF' || fail "verify --json: $(cat "$tmp/out")"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["pairs"] >= 200 and r["skipped"] == 0, r
assert r["same"] >= 20 and r["different"] >= 100, r
assert r["auc"] >= 0.99, r
assert 0 <= r["best_accuracy"] <= 1 and -1 <= r["best_threshold"] <= 1, r
print(f"verify: {r['pairs']} pairs ({r['same']} same, {r['different']} different), "
      f"AUC {r['auc']}, accuracy {r['accuracy']} at {r['threshold']}, best threshold "
      f"{r['best_threshold']} (accuracy {r['best_accuracy']}), same min {r['same_min']}, "
      f"different max {r['different_max']}")
EOF
    pass "verify on the shared identities gives ROC AUC >= 0.99"
    expect_code 0 verify "$tmp/pairs.tsv" --threshold 0.99
    grep -q "(--threshold)" "$tmp/out" || fail "verify does not say where its threshold is from"
    pass "verify --threshold overrides the card's"
    printf 'images/insightface/t1.jpg\timages/insightface/t1.jpg\t1\nbad line\n' \
        > "$tmp/bad_pairs.tsv"
    expect_code 1 verify "$tmp/bad_pairs.tsv"
    grep -q "bad_pairs.tsv:2" "$tmp/err" || fail "a malformed line is not named"
    pass "a malformed pairs line exits 1 naming the line"
}

case $mode in
    usage) usage_checks ;;
    pipeline)
        find_shared
        export FQ_SHARED=$shared
        unset FQ_MODELS FQ_CARDS
        detect_checks
        gallery_checks
        verify_checks
        ;;
    *) echo "usage: test_commands.sh FQ usage|pipeline" >&2; exit 2 ;;
esac
echo "$passed checks passed"
