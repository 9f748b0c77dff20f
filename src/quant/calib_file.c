/* Statistics files: the little-endian layout of facequant/calibrate.h, written byte by byte so
 * the file is the same on every host. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "facequant/alloc.h"
#include "facequant/calibrate.h"

#define CALIB_MAGIC "FQCALIB"
#define CALIB_MAGIC_SIZE 8
#define CALIB_HEADER_SIZE (CALIB_MAGIC_SIZE + 4 * 4)
#define CALIB_VALUE_FIXED_SIZE (4 + 3 * 8 + 3 * 8 + FQ_CALIB_BINS * 8)
/* After the histogram, u32 channels and per channel f64 sum, u64 count and, from version 3 on,
 * f64 min, f64 max. */
#define CALIB_CHANNEL_SIZE_V2 16
#define CALIB_CHANNEL_SIZE 32
#define CALIB_MAX_CHANNELS (1 << 20)
/* A file over this size is refused before it is read. */
#define CALIB_MAX_FILE_SIZE ((size_t)1 << 31)

typedef struct writer {
    unsigned char *data;
    size_t pos;
} writer;

static void put_u32(writer *w, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        w->data[w->pos++] = (unsigned char)(v >> (8 * i));
}

static void put_u64(writer *w, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        w->data[w->pos++] = (unsigned char)(v >> (8 * i));
}

static void put_f64(writer *w, double v)
{
    uint64_t bits;
    memcpy(&bits, &v, sizeof(bits));
    put_u64(w, bits);
}

static size_t serialized_size(const fq_calib_stats *stats)
{
    size_t size = CALIB_HEADER_SIZE;
    for (int i = 0; i < stats->n_values; i++)
        size += CALIB_VALUE_FIXED_SIZE + strlen(stats->values[i].name) + 4 +
                (size_t)stats->values[i].channels * CALIB_CHANNEL_SIZE;
    return size;
}

fq_status fq_calib_stats_serialize(const fq_calib_stats *stats, void **data, size_t *size,
                                   fq_error *err)
{
    *data = NULL;
    *size = 0;
    size_t total = serialized_size(stats);
    writer w = {fq_malloc(total), 0};
    if (w.data == NULL)
        return fq_error_set(err, FQ_ERR_NO_MEMORY, "no memory for %zu bytes of statistics",
                            total);
    memcpy(w.data, CALIB_MAGIC, CALIB_MAGIC_SIZE);
    w.pos = CALIB_MAGIC_SIZE;
    put_u32(&w, FQ_CALIB_FILE_VERSION);
    put_u32(&w, FQ_CALIB_BINS);
    put_u32(&w, (uint32_t)stats->n_values);
    put_u32(&w, (uint32_t)stats->inputs_seen);

    for (int i = 0; i < stats->n_values; i++) {
        const fq_value_stats *vs = &stats->values[i];
        size_t len = strlen(vs->name);
        put_u32(&w, (uint32_t)len);
        memcpy(w.data + w.pos, vs->name, len);
        w.pos += len;
        put_f64(&w, vs->min);
        put_f64(&w, vs->max);
        put_f64(&w, vs->range);
        put_u64(&w, vs->count);
        put_u64(&w, vs->non_finite);
        put_u64(&w, vs->zeros);
        for (int b = 0; b < FQ_CALIB_BINS; b++)
            put_u64(&w, vs->hist[b]);
        put_u32(&w, (uint32_t)vs->channels);
        for (int c = 0; c < vs->channels; c++) {
            put_f64(&w, vs->channel_sum[c]);
            put_u64(&w, vs->channel_count[c]);
            put_f64(&w, vs->channel_min != NULL ? vs->channel_min[c] : INFINITY);
            put_f64(&w, vs->channel_max != NULL ? vs->channel_max[c] : -INFINITY);
        }
    }
    *data = w.data;
    *size = w.pos;
    return FQ_OK;
}

typedef struct reader {
    const unsigned char *data;
    size_t size;
    size_t pos;
} reader;

static bool have(const reader *r, size_t n)
{
    return r->size - r->pos >= n;
}

static uint64_t get_uint(reader *r, int bytes)
{
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++)
        v |= (uint64_t)r->data[r->pos + i] << (8 * i);
    r->pos += (size_t)bytes;
    return v;
}

static double get_f64(reader *r)
{
    uint64_t bits = get_uint(r, 8);
    double v;
    memcpy(&v, &bits, sizeof(v));
    return v;
}

static fq_status read_header(reader *r, uint32_t *version_out, uint32_t *n_values,
                             uint32_t *inputs, fq_error *err)
{
    if (!have(r, CALIB_HEADER_SIZE))
        return fq_error_set(err, FQ_ERR_PARSE, "statistics: %zu bytes, shorter than the "
                            "%d-byte header", r->size, CALIB_HEADER_SIZE);
    if (memcmp(r->data, CALIB_MAGIC, CALIB_MAGIC_SIZE) != 0)
        return fq_error_set(err, FQ_ERR_PARSE, "statistics: no FQCALIB magic at byte 0");
    r->pos = CALIB_MAGIC_SIZE;
    uint32_t version = (uint32_t)get_uint(r, 4);
    uint32_t bins = (uint32_t)get_uint(r, 4);
    *n_values = (uint32_t)get_uint(r, 4);
    *inputs = (uint32_t)get_uint(r, 4);
    if (version < 1 || version > FQ_CALIB_FILE_VERSION)
        return fq_error_set(err, FQ_ERR_UNSUPPORTED, "statistics: version %u at byte %d; this "
                            "facequant reads versions 1 to %d", (unsigned)version,
                            CALIB_MAGIC_SIZE, FQ_CALIB_FILE_VERSION);
    *version_out = version;
    if (bins != FQ_CALIB_BINS)
        return fq_error_set(err, FQ_ERR_UNSUPPORTED, "statistics: %u bins at byte %d; this "
                            "facequant uses %d", (unsigned)bins, CALIB_MAGIC_SIZE + 4,
                            FQ_CALIB_BINS);
    if (*n_values > (r->size - r->pos) / CALIB_VALUE_FIXED_SIZE || *inputs > INT32_MAX)
        return fq_error_set(err, FQ_ERR_PARSE, "statistics: %u values (byte %d) do not fit in "
                            "the %zu bytes of the file", (unsigned)*n_values, CALIB_MAGIC_SIZE + 8,
                            r->size);
    return FQ_OK;
}

/* The name of one value: its length is checked, and a NUL inside it refused. */
static fq_status read_name(reader *r, char **name, fq_error *err)
{
    size_t at = r->pos;
    if (!have(r, 4))
        return fq_error_set(err, FQ_ERR_PARSE, "statistics: truncated at byte %zu (name "
                            "length)", at);
    uint64_t len = get_uint(r, 4);
    if (len == 0 || len > FQ_CALIB_NAME_MAX || !have(r, (size_t)len))
        return fq_error_set(err, FQ_ERR_PARSE, "statistics: name length %llu at byte %zu is "
                            "empty, over %d or past the end", (unsigned long long)len, at,
                            FQ_CALIB_NAME_MAX);
    if (memchr(r->data + r->pos, '\0', (size_t)len) != NULL)
        return fq_error_set(err, FQ_ERR_PARSE, "statistics: NUL byte in the name at byte %zu",
                            r->pos);
    *name = fq_strndup((const char *)r->data + r->pos, (size_t)len);
    r->pos += (size_t)len;
    if (*name == NULL)
        return fq_error_set(err, FQ_ERR_NO_MEMORY, "statistics: no memory for a name");
    return FQ_OK;
}

/* The per-channel statistics of versions 2 and 3, after the histogram. */
static fq_status read_channels(reader *r, uint32_t version, fq_value_stats *vs, fq_error *err)
{
    size_t at = r->pos;
    size_t record = version >= 3 ? CALIB_CHANNEL_SIZE : CALIB_CHANNEL_SIZE_V2;
    if (!have(r, 4))
        return fq_error_set(err, FQ_ERR_PARSE, "statistics: value '%s' truncated at byte %zu "
                            "(channel count)", vs->name, at);
    uint64_t channels = get_uint(r, 4);
    if (channels > CALIB_MAX_CHANNELS || !have(r, (size_t)channels * record))
        return fq_error_set(err, FQ_ERR_PARSE, "statistics: value '%s': %llu channels at byte "
                            "%zu are over %d or past the end", vs->name,
                            (unsigned long long)channels, at, CALIB_MAX_CHANNELS);
    if (channels == 0)
        return FQ_OK;
    vs->channel_sum = fq_calloc((size_t)channels, sizeof(double));
    vs->channel_count = fq_calloc((size_t)channels, sizeof(uint64_t));
    if (version >= 3) {
        vs->channel_min = fq_calloc((size_t)channels, sizeof(double));
        vs->channel_max = fq_calloc((size_t)channels, sizeof(double));
    }
    if (vs->channel_sum == NULL || vs->channel_count == NULL ||
        (version >= 3 && (vs->channel_min == NULL || vs->channel_max == NULL)))
        return fq_error_set(err, FQ_ERR_NO_MEMORY, "statistics: no memory for %llu channel "
                            "sums", (unsigned long long)channels);
    vs->channels = (int)channels;
    for (uint64_t c = 0; c < channels; c++) {
        vs->channel_sum[c] = get_f64(r);
        vs->channel_count[c] = get_uint(r, 8);
        if (version >= 3) {
            vs->channel_min[c] = get_f64(r);
            vs->channel_max[c] = get_f64(r);
        }
    }
    return FQ_OK;
}

static fq_status read_value(reader *r, uint32_t version, fq_value_stats *vs, fq_error *err)
{
    fq_status status = read_name(r, &vs->name, err);
    if (status != FQ_OK)
        return status;
    size_t at = r->pos;
    if (!have(r, CALIB_VALUE_FIXED_SIZE - 4))
        return fq_error_set(err, FQ_ERR_PARSE, "statistics: value '%s' truncated at byte %zu",
                            vs->name, at);
    vs->min = get_f64(r);
    vs->max = get_f64(r);
    vs->range = get_f64(r);
    vs->count = get_uint(r, 8);
    vs->non_finite = get_uint(r, 8);
    vs->zeros = get_uint(r, 8);
    uint64_t sum = 0;
    for (int b = 0; b < FQ_CALIB_BINS; b++) {
        vs->hist[b] = get_uint(r, 8);
        sum += vs->hist[b];
    }
    if (!(vs->range >= 0.0) || sum != vs->count || vs->zeros > vs->hist[0] ||
        (vs->count > 0 && !(vs->min <= vs->max)))
        return fq_error_set(err, FQ_ERR_PARSE, "statistics: value '%s' at byte %zu is "
                            "inconsistent (range, min/max, zeros, or counts that do not sum)",
                            vs->name, at);
    return version >= 2 ? read_channels(r, version, vs, err) : FQ_OK;
}

fq_status fq_calib_stats_deserialize(const void *data, size_t size, fq_calib_stats **out,
                                     fq_error *err)
{
    *out = NULL;
    reader r = {data, size, 0};
    uint32_t version = 0, n_values = 0, inputs = 0;
    fq_status status = read_header(&r, &version, &n_values, &inputs, err);
    if (status != FQ_OK)
        return status;
    status = fq_calib_stats_create(NULL, 0, out, err);
    if (status != FQ_OK)
        return status;
    fq_calib_stats *stats = *out;
    fq_free(stats->values);
    stats->values = fq_calloc((size_t)n_values + 1, sizeof(fq_value_stats));
    if (stats->values == NULL) {
        fq_calib_stats_free(stats);
        *out = NULL;
        return fq_error_set(err, FQ_ERR_NO_MEMORY, "statistics: no memory for %u values",
                            (unsigned)n_values);
    }
    stats->inputs_seen = (int)inputs;
    for (uint32_t i = 0; i < n_values && status == FQ_OK; i++) {
        stats->n_values = (int)i + 1;
        status = read_value(&r, version, &stats->values[i], err);
    }
    if (status == FQ_OK && r.pos != size)
        status = fq_error_set(err, FQ_ERR_PARSE, "statistics: %zu bytes after the last value "
                              "at byte %zu", size - r.pos, r.pos);
    if (status != FQ_OK) {
        fq_calib_stats_free(stats);
        *out = NULL;
    }
    return status;
}

#if defined(FQ_HAVE_FILES)
fq_status fq_calib_stats_save(const fq_calib_stats *stats, const char *path, fq_error *err)
{
    void *data;
    size_t size;
    fq_status status = fq_calib_stats_serialize(stats, &data, &size, err);
    if (status != FQ_OK)
        return status;
    FILE *f = fopen(path, "wb");
    if (f == NULL) {
        fq_free(data);
        return fq_error_set(err, FQ_ERR_IO, "%s: cannot open for writing", path);
    }
    bool written = fwrite(data, 1, size, f) == size;
    bool closed = fclose(f) == 0;
    fq_free(data);
    if (!written || !closed)
        return fq_error_set(err, FQ_ERR_IO, "%s: cannot write %zu bytes", path, size);
    return FQ_OK;
}

static fq_status read_whole_file(const char *path, unsigned char **data, size_t *size,
                                 fq_error *err)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return fq_error_set(err, FQ_ERR_IO, "%s: cannot open", path);
    long end = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
    if (end < 0 || (unsigned long)end > CALIB_MAX_FILE_SIZE || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return fq_error_set(err, FQ_ERR_IO, "%s: cannot tell the size, or over %zu bytes",
                            path, CALIB_MAX_FILE_SIZE);
    }
    *size = (size_t)end;
    *data = fq_malloc(*size > 0 ? *size : 1);
    bool read_ok = *data != NULL && fread(*data, 1, *size, f) == *size;
    fclose(f);
    if (!read_ok) {
        fq_free(*data);
        *data = NULL;
        return fq_error_set(err, FQ_ERR_IO, "%s: cannot read %zu bytes", path, *size);
    }
    return FQ_OK;
}

fq_status fq_calib_stats_load(const char *path, fq_calib_stats **out, fq_error *err)
{
    *out = NULL;
    unsigned char *data = NULL;
    size_t size = 0;
    fq_status status = read_whole_file(path, &data, &size, err);
    if (status != FQ_OK)
        return status;
    status = fq_calib_stats_deserialize(data, size, out, err);
    fq_free(data);
    if (status != FQ_OK)
        return fq_error_prefix(err, status, "%s", path);
    return FQ_OK;
}
#endif
