/* Model cards: `key = value` text files saying how to feed a model and what its defaults are.
 *
 * A card is read in two steps: every line is parsed into a list of settings, then the defaults
 * of the card's role and family are laid down and the settings applied over them, so a card may
 * name its role and family anywhere. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "facequant/alloc.h"
#include "facequant/face.h"

#define CARD_MAX_LINE 512
#define CARD_MAX_VALUE 256

typedef enum card_key {
    KEY_NAME = 0,
    KEY_ROLE,
    KEY_FAMILY,
    KEY_INPUT_SIZE,
    KEY_MEAN,
    KEY_STD,
    KEY_COLOR,
    KEY_SCORE_THRESHOLD,
    KEY_NMS_THRESHOLD,
    KEY_EMBEDDING_SIZE,
    KEY_MATCH_THRESHOLD,
    KEY_COUNT
} card_key;

static const char *const key_names[KEY_COUNT] = {
    "name",           "role",          "family",         "input_size",
    "mean",           "std",           "color",          "score_threshold",
    "nms_threshold",  "embedding_size", "match_threshold",
};

/* The value given for each key, and the line it was on (0: not given). */
typedef struct card_settings {
    char values[KEY_COUNT][CARD_MAX_VALUE];
    int lines[KEY_COUNT];
} card_settings;

void fq_model_card_defaults(fq_model_role role, fq_detector_family family, fq_model_card *card)
{
    memset(card, 0, sizeof(*card));
    card->role = role;
    card->family = family;
    if (role == FQ_ROLE_RECOGNIZER) {
        snprintf(card->name, sizeof(card->name), "arcface");
        card->input_width = 112;
        card->input_height = 112;
        card->norm = (fq_normalization){{127.5f, 127.5f, 127.5f}, {127.5f, 127.5f, 127.5f}, false};
        card->match_threshold = 0.4f;
        return;
    }
    if (family == FQ_DETECTOR_YUNET) {
        snprintf(card->name, sizeof(card->name), "yunet");
        card->norm = (fq_normalization){{0.0f, 0.0f, 0.0f}, {1.0f, 1.0f, 1.0f}, true};
        card->score_threshold = 0.6f;
        card->nms_threshold = 0.3f;
        return;
    }
    snprintf(card->name, sizeof(card->name), "scrfd");
    card->norm = (fq_normalization){{127.5f, 127.5f, 127.5f}, {128.0f, 128.0f, 128.0f}, false};
    card->score_threshold = 0.5f;
    card->nms_threshold = 0.4f;
}

static fq_status line_error(fq_error *err, int line, const char *what, const char *value)
{
    return fq_error_set(err, FQ_ERR_PARSE, "model card line %d: %s, not '%s'", line, what,
                        value);
}

/* Copies text[start, end) into out without leading and trailing white space. */
static void copy_trimmed(const char *start, const char *end, char *out)
{
    while (start < end && isspace((unsigned char)*start))
        start++;
    while (end > start && isspace((unsigned char)end[-1]))
        end--;
    memcpy(out, start, (size_t)(end - start));
    out[end - start] = '\0';
}

static int find_key(const char *name)
{
    for (int k = 0; k < KEY_COUNT; k++)
        if (strcmp(key_names[k], name) == 0)
            return k;
    return -1;
}

/* One line (comment already cut off, at most CARD_MAX_LINE bytes): blank, or key = value. */
static fq_status parse_line(const char *text, size_t len, int line, card_settings *settings,
                            fq_error *err)
{
    char buf[CARD_MAX_LINE + 1];
    copy_trimmed(text, text + len, buf);
    if (buf[0] == '\0')
        return FQ_OK;

    char *eq = strchr(buf, '=');
    if (eq == NULL)
        return fq_error_set(err, FQ_ERR_PARSE, "model card line %d: expected key = value, not "
                            "'%s'", line, buf);
    char key[CARD_MAX_LINE + 1], value[CARD_MAX_LINE + 1];
    copy_trimmed(buf, eq, key);
    copy_trimmed(eq + 1, buf + strlen(buf), value);

    int k = find_key(key);
    if (k < 0)
        return fq_error_set(err, FQ_ERR_PARSE, "model card line %d: unknown key '%s'", line, key);
    if (settings->lines[k] != 0)
        return fq_error_set(err, FQ_ERR_PARSE, "model card line %d: '%s' is already set on line "
                            "%d", line, key, settings->lines[k]);
    if (value[0] == '\0' || strlen(value) >= CARD_MAX_VALUE)
        return fq_error_set(err, FQ_ERR_PARSE, "model card line %d: '%s' needs a value of 1 to "
                            "%d characters", line, key, CARD_MAX_VALUE - 1);
    memcpy(settings->values[k], value, strlen(value) + 1);
    settings->lines[k] = line;
    return FQ_OK;
}

static fq_status split_lines(const char *text, size_t size, card_settings *settings,
                             fq_error *err)
{
    size_t pos = 0;
    for (int line = 1; pos < size; line++) {
        size_t end = pos;
        while (end < size && text[end] != '\n')
            end++;
        const char *hash = memchr(text + pos, '#', end - pos);
        size_t len = hash != NULL ? (size_t)(hash - (text + pos)) : end - pos;
        if (memchr(text + pos, '\0', end - pos) != NULL)
            return fq_error_set(err, FQ_ERR_PARSE, "model card line %d: contains a NUL byte",
                                line);
        if (len > CARD_MAX_LINE)
            return fq_error_set(err, FQ_ERR_PARSE, "model card line %d: longer than %d bytes",
                                line, CARD_MAX_LINE);
        fq_status status = parse_line(text + pos, len, line, settings, err);
        if (status != FQ_OK)
            return status;
        pos = end + 1;
    }
    return FQ_OK;
}

static bool parse_float(const char *s, float *out)
{
    char *end = NULL;
    float v = strtof(s, &end);
    if (end == s || !isfinite(v))
        return false;
    while (isspace((unsigned char)*end))
        end++;
    *out = v;
    return *end == '\0';
}

static bool parse_int(const char *s, int lo, int hi, int *out)
{
    char *end = NULL;
    long v = strtol(s, &end, 10);
    if (end == s || *end != '\0' || v < lo || v > hi)
        return false;
    *out = (int)v;
    return true;
}

/* One or three numbers separated by commas and/or spaces; one is used for every channel. */
static bool parse_triple(const char *s, float out[3])
{
    char buf[CARD_MAX_VALUE];
    snprintf(buf, sizeof(buf), "%s", s);
    float v[4];
    int n = 0;
    for (char *tok = strtok(buf, ", \t"); tok != NULL; tok = strtok(NULL, ", \t")) {
        if (n == 4 || !parse_float(tok, &v[n]))
            return false;
        n++;
    }
    if (n != 1 && n != 3)
        return false;
    for (int c = 0; c < 3; c++)
        out[c] = v[n == 1 ? 0 : c];
    return true;
}

static bool parse_size(const char *s, int *width, int *height)
{
    if (strcmp(s, "dynamic") == 0) {
        *width = 0;
        *height = 0;
        return true;
    }
    const char *x = strchr(s, 'x');
    if (x == NULL || x - s >= 16)
        return false;
    char w[16];
    memcpy(w, s, (size_t)(x - s));
    w[x - s] = '\0';
    return parse_int(w, 1, FQ_IMAGE_MAX_SIDE, width) &&
           parse_int(x + 1, 1, FQ_IMAGE_MAX_SIDE, height);
}

static fq_status settle_role(const card_settings *settings, fq_model_role *role,
                             fq_detector_family *family, fq_error *err)
{
    const char *r = settings->values[KEY_ROLE];
    const char *f = settings->values[KEY_FAMILY];
    *role = FQ_ROLE_DETECTOR;
    *family = FQ_DETECTOR_SCRFD;
    if (settings->lines[KEY_ROLE] != 0 && strcmp(r, "recognizer") == 0)
        *role = FQ_ROLE_RECOGNIZER;
    else if (settings->lines[KEY_ROLE] != 0 && strcmp(r, "detector") != 0)
        return line_error(err, settings->lines[KEY_ROLE], "role is detector or recognizer", r);
    if (settings->lines[KEY_FAMILY] != 0 && strcmp(f, "yunet") == 0)
        *family = FQ_DETECTOR_YUNET;
    else if (settings->lines[KEY_FAMILY] != 0 && strcmp(f, "scrfd") != 0)
        return line_error(err, settings->lines[KEY_FAMILY], "family is scrfd or yunet", f);
    if (*role == FQ_ROLE_RECOGNIZER && settings->lines[KEY_FAMILY] != 0)
        return fq_error_set(err, FQ_ERR_PARSE, "model card line %d: family applies to "
                            "detectors only", settings->lines[KEY_FAMILY]);
    return FQ_OK;
}

/* Keys that only one role uses are refused on a card of the other role. */
static fq_status check_key_roles(const card_settings *settings, fq_model_role role,
                                 fq_error *err)
{
    static const card_key detector_keys[] = {KEY_SCORE_THRESHOLD, KEY_NMS_THRESHOLD};
    static const card_key recognizer_keys[] = {KEY_EMBEDDING_SIZE, KEY_MATCH_THRESHOLD};
    const card_key *keys = role == FQ_ROLE_DETECTOR ? recognizer_keys : detector_keys;
    for (int i = 0; i < 2; i++)
        if (settings->lines[keys[i]] != 0)
            return fq_error_set(err, FQ_ERR_PARSE, "model card line %d: %s applies to %s only",
                                settings->lines[keys[i]], key_names[keys[i]],
                                role == FQ_ROLE_DETECTOR ? "recognizers" : "detectors");
    return FQ_OK;
}

static fq_status apply_threshold(const card_settings *settings, card_key key, float lo,
                                 float hi, float *out, fq_error *err)
{
    if (settings->lines[key] == 0)
        return FQ_OK;
    char what[96];
    snprintf(what, sizeof(what), "%s takes a number in [%g, %g]", key_names[key], lo, hi);
    if (!parse_float(settings->values[key], out) || *out < lo || *out > hi)
        return line_error(err, settings->lines[key], what, settings->values[key]);
    return FQ_OK;
}

static fq_status apply_normalization(const card_settings *settings, fq_normalization *norm,
                                     fq_error *err)
{
    if (settings->lines[KEY_MEAN] != 0 && !parse_triple(settings->values[KEY_MEAN], norm->mean))
        return line_error(err, settings->lines[KEY_MEAN], "mean takes one or three numbers",
                          settings->values[KEY_MEAN]);
    if (settings->lines[KEY_STD] != 0) {
        bool ok = parse_triple(settings->values[KEY_STD], norm->std);
        for (int c = 0; ok && c < 3; c++)
            ok = norm->std[c] != 0.0f;
        if (!ok)
            return line_error(err, settings->lines[KEY_STD], "std takes one or three non-zero "
                              "numbers", settings->values[KEY_STD]);
    }
    const char *color = settings->values[KEY_COLOR];
    if (settings->lines[KEY_COLOR] == 0)
        return FQ_OK;
    if (strcmp(color, "rgb") != 0 && strcmp(color, "bgr") != 0)
        return line_error(err, settings->lines[KEY_COLOR], "color is rgb or bgr", color);
    norm->bgr = strcmp(color, "bgr") == 0;
    return FQ_OK;
}

static fq_status apply_settings(const card_settings *settings, fq_model_card *card,
                                fq_error *err)
{
    const char *name = settings->values[KEY_NAME];
    if (settings->lines[KEY_NAME] != 0 && strlen(name) >= sizeof(card->name))
        return line_error(err, settings->lines[KEY_NAME], "name is at most 63 characters", name);
    if (settings->lines[KEY_NAME] != 0)
        snprintf(card->name, sizeof(card->name), "%s", name);

    if (settings->lines[KEY_INPUT_SIZE] != 0 &&
        !parse_size(settings->values[KEY_INPUT_SIZE], &card->input_width, &card->input_height))
        return line_error(err, settings->lines[KEY_INPUT_SIZE], "input_size is WxH (such as "
                          "640x640) or dynamic", settings->values[KEY_INPUT_SIZE]);

    fq_status status = apply_normalization(settings, &card->norm, err);
    if (status == FQ_OK)
        status = apply_threshold(settings, KEY_SCORE_THRESHOLD, 0.0f, 1.0f,
                                 &card->score_threshold, err);
    if (status == FQ_OK)
        status = apply_threshold(settings, KEY_NMS_THRESHOLD, 0.0f, 1.0f, &card->nms_threshold,
                                 err);
    if (status == FQ_OK)
        status = apply_threshold(settings, KEY_MATCH_THRESHOLD, -1.0f, 1.0f,
                                 &card->match_threshold, err);
    if (status != FQ_OK)
        return status;

    if (settings->lines[KEY_EMBEDDING_SIZE] != 0 &&
        !parse_int(settings->values[KEY_EMBEDDING_SIZE], 1, 65536, &card->embedding_size))
        return line_error(err, settings->lines[KEY_EMBEDDING_SIZE], "embedding_size is an "
                          "integer in [1, 65536]", settings->values[KEY_EMBEDDING_SIZE]);
    return FQ_OK;
}

fq_status fq_model_card_parse(const char *text, size_t size, fq_model_card *card,
                              fq_error *err)
{
    if ((text == NULL && size > 0) || card == NULL)
        return fq_error_set(err, FQ_ERR_INVALID_ARG, "fq_model_card_parse: NULL argument");

    card_settings *settings = fq_calloc(1, sizeof(*settings));
    if (settings == NULL)
        return fq_error_set(err, FQ_ERR_NO_MEMORY, "model card: out of memory");

    fq_model_role role;
    fq_detector_family family;
    fq_model_card parsed;
    fq_status status = split_lines(text, size, settings, err);
    if (status == FQ_OK)
        status = settle_role(settings, &role, &family, err);
    if (status == FQ_OK)
        status = check_key_roles(settings, role, err);
    if (status == FQ_OK) {
        fq_model_card_defaults(role, family, &parsed);
        status = apply_settings(settings, &parsed, err);
    }
    if (status == FQ_OK)
        *card = parsed;
    fq_free(settings);
    return status;
}
