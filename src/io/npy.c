/* NumPy .npy files: a magic string, a version, a header that is a Python dict literal, then the
 * raw C-order array data. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#if defined(__unix__) || defined(__APPLE__)
#include <unistd.h>
#define NPY_HAVE_GETPID 1
#endif

#include "facequant/alloc.h"
#include "facequant/npy.h"

#define NPY_MAGIC "\x93NUMPY"
#define NPY_MAGIC_SIZE 6
/* Magic, two version bytes and a 4-byte header length (2 bytes in format 1.0). */
#define NPY_PREAMBLE_MAX 12
#define NPY_HEADER_ALIGN 64
/* numpy's own headers are under 200 bytes; a longer one is refused before it is read. */
#define NPY_MAX_HEADER_SIZE ((size_t)1 << 20)
#define NPY_MAX_STRING 32

typedef struct npy_descr {
    const char *code; /* descr without its byte-order mark */
    fq_dtype dtype;
} npy_descr;

static const npy_descr descr_table[] = {
    {"f4", FQ_DTYPE_F32}, {"f2", FQ_DTYPE_F16}, {"i1", FQ_DTYPE_I8},  {"u1", FQ_DTYPE_U8},
    {"i4", FQ_DTYPE_I32}, {"i8", FQ_DTYPE_I64}, {"b1", FQ_DTYPE_BOOL},
};

#define DESCR_COUNT (sizeof(descr_table) / sizeof(descr_table[0]))

/* Where a header is being parsed: text[pos], at file offset base + pos. */
typedef struct header_cursor {
    const char *text;
    size_t len;
    size_t pos;
    size_t base;
    const char *where;
    fq_error *err;
} header_cursor;

typedef struct npy_header {
    fq_dtype dtype;
    fq_shape shape;
    bool have_descr;
    bool have_fortran_order;
    bool have_shape;
} npy_header;

/* Offsets of the parts of a file, from its preamble. */
typedef struct npy_layout {
    size_t header_start;
    size_t header_size;
    size_t data_start;
} npy_layout;

static bool host_is_little_endian(void)
{
    const uint16_t probe = 1;
    unsigned char first;
    memcpy(&first, &probe, 1);
    return first == 1;
}

static void swap_bytes(unsigned char *data, size_t bytes, size_t elem)
{
    for (size_t at = 0; at + elem <= bytes; at += elem)
        for (size_t i = 0; i < elem / 2; i++) {
            unsigned char t = data[at + i];
            data[at + i] = data[at + elem - 1 - i];
            data[at + elem - 1 - i] = t;
        }
}

static fq_status header_fail(header_cursor *c, const char *what)
{
    return fq_error_set(c->err, FQ_ERR_PARSE, "%s: npy header at byte %zu: %s", c->where,
                        c->base + c->pos, what);
}

static int peek(const header_cursor *c)
{
    return c->pos < c->len ? (unsigned char)c->text[c->pos] : -1;
}

static void skip_space(header_cursor *c)
{
    while (peek(c) == ' ' || peek(c) == '\t')
        c->pos++;
}

static fq_status expect(header_cursor *c, char ch, const char *what)
{
    skip_space(c);
    if (peek(c) != (unsigned char)ch)
        return header_fail(c, what);
    c->pos++;
    return FQ_OK;
}

/* Consumes ch (after spaces) if it is next; returns whether it was. */
static bool accept(header_cursor *c, char ch)
{
    skip_space(c);
    if (peek(c) != (unsigned char)ch)
        return false;
    c->pos++;
    return true;
}

/* A quoted string without escapes, copied into buf (NPY_MAX_STRING bytes). */
static fq_status parse_string(header_cursor *c, char *buf)
{
    skip_space(c);
    int quote = peek(c);
    if (quote != '\'' && quote != '"')
        return header_fail(c, "expected a quoted string");
    c->pos++;

    size_t n = 0;
    while (peek(c) != quote) {
        int ch = peek(c);
        if (ch < 0x20 || ch > 0x7e || ch == '\\')
            return header_fail(c, "unterminated string or unsupported character in a string");
        if (n + 1 >= NPY_MAX_STRING)
            return header_fail(c, "string longer than 31 characters");
        buf[n++] = (char)ch;
        c->pos++;
    }
    buf[n] = '\0';
    c->pos++;
    return FQ_OK;
}

static bool match_word(header_cursor *c, const char *word)
{
    size_t n = strlen(word);
    if (c->len - c->pos < n || memcmp(c->text + c->pos, word, n) != 0)
        return false;
    c->pos += n;
    return true;
}

static fq_status parse_bool(header_cursor *c, bool *value)
{
    skip_space(c);
    if (match_word(c, "True"))
        *value = true;
    else if (match_word(c, "False"))
        *value = false;
    else
        return header_fail(c, "expected True or False");
    return FQ_OK;
}

/* A non-negative decimal integer; a trailing 'L' (Python 2's long) is accepted. */
static fq_status parse_dim(header_cursor *c, int64_t *value)
{
    skip_space(c);
    if (peek(c) < '0' || peek(c) > '9')
        return header_fail(c, "expected a non-negative integer in the shape");

    int64_t v = 0;
    while (peek(c) >= '0' && peek(c) <= '9') {
        int digit = peek(c) - '0';
        if (v > (INT64_MAX - digit) / 10)
            return header_fail(c, "shape dimension overflows 64 bits");
        v = v * 10 + digit;
        c->pos++;
    }
    if (peek(c) == 'L')
        c->pos++;
    *value = v;
    return FQ_OK;
}

/* A tuple: "()", "(n,)", "(a, b)" or "(a, b,)". "(n)" is an integer in Python, not a tuple. */
static fq_status parse_shape(header_cursor *c, fq_shape *shape)
{
    fq_status st = expect(c, '(', "expected '(' to open the shape tuple");
    if (st != FQ_OK)
        return st;
    shape->rank = 0;
    if (accept(c, ')'))
        return FQ_OK;

    for (;;) {
        if (shape->rank == FQ_MAX_RANK)
            return header_fail(c, "shape has more than 8 dimensions");
        st = parse_dim(c, &shape->dims[shape->rank]);
        if (st != FQ_OK)
            return st;
        shape->rank++;

        bool comma = accept(c, ',');
        if (accept(c, ')')) {
            if (shape->rank == 1 && !comma)
                return header_fail(c, "one-element shape needs a trailing comma: (n,)");
            return FQ_OK;
        }
        if (!comma)
            return header_fail(c, "expected ',' or ')' in the shape tuple");
    }
}

static fq_status descr_to_dtype(header_cursor *c, const char *descr, fq_dtype *dtype)
{
    char order = descr[0];
    if (strlen(descr) != 3 || strchr("<>|=", order) == NULL)
        return header_fail(c, "descr must be a byte-order mark and a type code, such as '<f4'");

    for (size_t i = 0; i < DESCR_COUNT; i++) {
        if (strcmp(descr + 1, descr_table[i].code) != 0)
            continue;
        bool one_byte = fq_dtype_size(descr_table[i].dtype) == 1;
        if (!one_byte && order != '<' && order != '|')
            return fq_error_set(c->err, FQ_ERR_UNSUPPORTED,
                                "%s: npy header at byte %zu: descr '%s' is not little-endian",
                                c->where, c->base + c->pos, descr);
        *dtype = descr_table[i].dtype;
        return FQ_OK;
    }
    return fq_error_set(c->err, FQ_ERR_UNSUPPORTED,
                        "%s: npy header at byte %zu: element type '%s' is not supported "
                        "(f4, f2, i1, u1, i4, i8, b1 are)",
                        c->where, c->base + c->pos, descr);
}

static fq_status parse_descr(header_cursor *c, npy_header *header)
{
    char descr[NPY_MAX_STRING];
    fq_status st = parse_string(c, descr);
    if (st != FQ_OK)
        return st;
    header->have_descr = true;
    return descr_to_dtype(c, descr, &header->dtype);
}

static fq_status parse_fortran_order(header_cursor *c, npy_header *header)
{
    bool fortran = false;
    fq_status st = parse_bool(c, &fortran);
    if (st != FQ_OK)
        return st;
    header->have_fortran_order = true;
    if (fortran)
        return fq_error_set(c->err, FQ_ERR_UNSUPPORTED,
                            "%s: npy header at byte %zu: Fortran-order arrays are not supported",
                            c->where, c->base + c->pos);
    return FQ_OK;
}

static fq_status parse_entry(header_cursor *c, npy_header *header)
{
    char key[NPY_MAX_STRING];
    size_t key_pos = c->pos;
    fq_status st = parse_string(c, key);
    if (st != FQ_OK)
        return st;
    st = expect(c, ':', "expected ':' after a key");
    if (st != FQ_OK)
        return st;

    bool repeated = (strcmp(key, "descr") == 0 && header->have_descr) ||
                    (strcmp(key, "fortran_order") == 0 && header->have_fortran_order) ||
                    (strcmp(key, "shape") == 0 && header->have_shape);
    if (repeated) {
        c->pos = key_pos;
        return header_fail(c, "key given twice");
    }
    if (strcmp(key, "descr") == 0)
        return parse_descr(c, header);
    if (strcmp(key, "fortran_order") == 0)
        return parse_fortran_order(c, header);
    if (strcmp(key, "shape") == 0) {
        header->have_shape = true;
        return parse_shape(c, &header->shape);
    }
    c->pos = key_pos;
    return header_fail(c, "unknown key (only 'descr', 'fortran_order' and 'shape' are allowed)");
}

static fq_status parse_tail(header_cursor *c)
{
    skip_space(c);
    if (c->pos + 1 != c->len || peek(c) != '\n')
        return header_fail(c, "expected only spaces and a final newline after the dict");
    return FQ_OK;
}

static fq_status parse_header(header_cursor *c, npy_header *header)
{
    memset(header, 0, sizeof(*header));
    fq_status st = expect(c, '{', "expected '{' to open the header dict");
    if (st != FQ_OK)
        return st;

    while (!accept(c, '}')) {
        st = parse_entry(c, header);
        if (st != FQ_OK)
            return st;
        if (accept(c, ','))
            continue;
        st = expect(c, '}', "expected ',' or '}' after a dict entry");
        if (st != FQ_OK)
            return st;
        break;
    }

    if (!header->have_descr || !header->have_fortran_order || !header->have_shape)
        return header_fail(c, "header lacks one of 'descr', 'fortran_order', 'shape'");
    return parse_tail(c);
}

static uint32_t read_le(const unsigned char *p, int bytes)
{
    uint32_t v = 0;
    for (int i = bytes - 1; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

/* Reads the preamble from the avail bytes at p, of a file of total bytes. */
static fq_status parse_preamble(const unsigned char *p, size_t avail, size_t total,
                                const char *where, npy_layout *layout, fq_error *err)
{
    if (avail < NPY_MAGIC_SIZE + 2 || memcmp(p, NPY_MAGIC, NPY_MAGIC_SIZE) != 0)
        return fq_error_set(err, FQ_ERR_PARSE, "%s: not an npy file (no \\x93NUMPY magic at "
                            "byte 0, or shorter than 8 bytes)", where);

    int major = p[6], minor = p[7];
    if (major < 1 || major > 3 || minor != 0)
        return fq_error_set(err, FQ_ERR_PARSE, "%s: npy format version %d.%d at byte 6 is not "
                            "1.0, 2.0 or 3.0", where, major, minor);

    int len_bytes = major == 1 ? 2 : 4;
    size_t start = NPY_MAGIC_SIZE + 2 + (size_t)len_bytes;
    if (avail < start)
        return fq_error_set(err, FQ_ERR_PARSE, "%s: truncated at byte %zu: header length needs "
                            "%d bytes at byte 8", where, avail, len_bytes);

    size_t header_size = read_le(p + 8, len_bytes);
    if (header_size > NPY_MAX_HEADER_SIZE)
        return fq_error_set(err, FQ_ERR_PARSE, "%s: header length %zu at byte 8 exceeds the "
                            "limit of %zu bytes", where, header_size, NPY_MAX_HEADER_SIZE);
    if (header_size > total - start)
        return fq_error_set(err, FQ_ERR_PARSE, "%s: truncated: header of %zu bytes from byte "
                            "%zu runs past the end of the file (%zu bytes)", where, header_size,
                            start, total);

    layout->header_start = start;
    layout->header_size = header_size;
    layout->data_start = start + header_size;
    return FQ_OK;
}

/* Checks that the data_bytes after the header are exactly what the shape needs. */
static fq_status check_data_size(const npy_header *header, size_t data_bytes, size_t data_start,
                                 const char *where, size_t *size, fq_error *err)
{
    char dims[160];
    fq_shape_format(&header->shape, dims, sizeof(dims));
    int64_t numel = fq_shape_numel(&header->shape);
    size_t elem = fq_dtype_size(header->dtype);
    if (numel < 0 || (uint64_t)numel > SIZE_MAX / elem)
        return fq_error_set(err, FQ_ERR_PARSE, "%s: shape %s of %s does not fit in memory",
                            where, dims, fq_dtype_name(header->dtype));

    size_t need = (size_t)numel * elem;
    if (data_bytes < need)
        return fq_error_set(err, FQ_ERR_PARSE, "%s: truncated: shape %s of %s needs %zu data "
                            "bytes from byte %zu, the file has %zu", where, dims,
                            fq_dtype_name(header->dtype), need, data_start, data_bytes);
    if (data_bytes > need)
        return fq_error_set(err, FQ_ERR_PARSE, "%s: %zu trailing bytes after the data of shape "
                            "%s of %s (which ends at byte %zu)", where, data_bytes - need, dims,
                            fq_dtype_name(header->dtype), data_start + need);
    *size = need;
    return FQ_OK;
}

static fq_status decode_header(const char *text, const npy_layout *layout, size_t total,
                               const char *where, npy_header *header, size_t *data_size,
                               fq_error *err)
{
    header_cursor c = {
        .text = text, .len = layout->header_size, .base = layout->header_start,
        .where = where, .err = err,
    };
    fq_status st = parse_header(&c, header);
    if (st != FQ_OK)
        return st;
    return check_data_size(header, total - layout->data_start, layout->data_start, where,
                           data_size, err);
}

/* Fills out from a decoded header. data (NULL: left for the caller to read) is copied and
 * byte-swapped on a big-endian host. */
static fq_status fill_result(const npy_header *header, const void *data, size_t size,
                             const char *where, fq_npy *out, fq_error *err)
{
    void *copy = fq_malloc_aligned(size);
    if (copy == NULL)
        return fq_error_set(err, FQ_ERR_NO_MEMORY, "%s: cannot allocate %zu bytes of data",
                            where, size);
    if (data != NULL && size > 0)
        memcpy(copy, data, size);
    if (data != NULL && !host_is_little_endian())
        swap_bytes(copy, size, fq_dtype_size(header->dtype));

    out->dtype = header->dtype;
    out->shape = header->shape;
    out->data = copy;
    out->size = size;
    return FQ_OK;
}

fq_status fq_npy_read_memory(const void *data, size_t size, fq_npy *out, fq_error *err)
{
    const char *where = "<memory>";
    if (out == NULL || (data == NULL && size > 0))
        return fq_error_set(err, FQ_ERR_INVALID_ARG, "fq_npy_read_memory: NULL argument");
    memset(out, 0, sizeof(*out));

    const unsigned char *bytes = data;
    npy_layout layout = {0};
    fq_status st = parse_preamble(bytes, size, size, where, &layout, err);
    if (st != FQ_OK)
        return st;

    npy_header header;
    size_t data_size = 0;
    st = decode_header((const char *)bytes + layout.header_start, &layout, size, where, &header,
                       &data_size, err);
    if (st != FQ_OK)
        return st;
    return fill_result(&header, bytes + layout.data_start, data_size, where, out, err);
}

/* The file functions use stdio; a build with -Dfiles=false has only the memory reader. */
#if defined(FQ_HAVE_FILES)
static fq_status file_size(FILE *f, const char *path, size_t *size, fq_error *err)
{
    if (fseek(f, 0, SEEK_END) != 0)
        return fq_error_set(err, FQ_ERR_IO, "%s: cannot seek", path);
    long end = ftell(f);
    if (end < 0 || fseek(f, 0, SEEK_SET) != 0)
        return fq_error_set(err, FQ_ERR_IO, "%s: cannot tell the file size", path);
    *size = (size_t)end;
    return FQ_OK;
}

static fq_status read_exact(FILE *f, void *buf, size_t bytes, size_t offset, const char *path,
                            fq_error *err)
{
    if (bytes > 0 && fread(buf, 1, bytes, f) != bytes)
        return fq_error_set(err, FQ_ERR_IO, "%s: cannot read %zu bytes at byte %zu", path,
                            bytes, offset);
    return FQ_OK;
}

/* Reads the header and data of an open file of total bytes. */
static fq_status read_stream(FILE *f, size_t total, const char *path, fq_npy *out, fq_error *err)
{
    unsigned char preamble[NPY_PREAMBLE_MAX];
    size_t avail = total < sizeof(preamble) ? total : sizeof(preamble);
    fq_status st = read_exact(f, preamble, avail, 0, path, err);
    if (st != FQ_OK)
        return st;
    npy_layout layout;
    st = parse_preamble(preamble, avail, total, path, &layout, err);
    if (st != FQ_OK)
        return st;

    char *text = fq_malloc(layout.header_size + 1);
    if (text == NULL)
        return fq_error_set(err, FQ_ERR_NO_MEMORY, "%s: cannot allocate the header", path);
    npy_header header;
    size_t data_size = 0;
    st = fseek(f, (long)layout.header_start, SEEK_SET) == 0
             ? read_exact(f, text, layout.header_size, layout.header_start, path, err)
             : fq_error_set(err, FQ_ERR_IO, "%s: cannot seek to the header", path);
    if (st == FQ_OK)
        st = decode_header(text, &layout, total, path, &header, &data_size, err);
    fq_free(text);
    if (st != FQ_OK)
        return st;

    st = fill_result(&header, NULL, data_size, path, out, err);
    if (st != FQ_OK)
        return st;
    st = read_exact(f, out->data, data_size, layout.data_start, path, err);
    if (st == FQ_OK && !host_is_little_endian())
        swap_bytes(out->data, data_size, fq_dtype_size(header.dtype));
    if (st != FQ_OK)
        fq_npy_free(out);
    return st;
}

fq_status fq_npy_read_file(const char *path, fq_npy *out, fq_error *err)
{
    if (path == NULL || out == NULL)
        return fq_error_set(err, FQ_ERR_INVALID_ARG, "fq_npy_read_file: NULL argument");
    memset(out, 0, sizeof(*out));

    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return fq_error_set(err, FQ_ERR_IO, "%s: cannot open for reading", path);
    size_t total = 0;
    fq_status st = file_size(f, path, &total, err);
    if (st == FQ_OK)
        st = read_stream(f, total, path, out, err);
    fclose(f);
    return st;
}

static const char *dtype_descr(fq_dtype dtype)
{
    switch (dtype) {
    case FQ_DTYPE_F32: return "<f4";
    case FQ_DTYPE_F16: return "<f2";
    case FQ_DTYPE_I8: return "|i1";
    case FQ_DTYPE_U8: return "|u1";
    case FQ_DTYPE_I32: return "<i4";
    case FQ_DTYPE_I64: return "<i8";
    case FQ_DTYPE_BOOL: return "|b1";
    default: return NULL;
    }
}

/* Formats the preamble and the padded header into buf; returns its length, 0 if it overflows. */
static size_t format_header(const char *descr, const fq_shape *shape, char *buf, size_t cap)
{
    char dict[400];
    int n = snprintf(dict, sizeof(dict), "{'descr': '%s', 'fortran_order': False, 'shape': (",
                     descr);
    for (int i = 0; i < shape->rank && n > 0 && (size_t)n < sizeof(dict); i++)
        n += snprintf(dict + n, sizeof(dict) - (size_t)n, "%s%lld", i > 0 ? ", " : "",
                      (long long)shape->dims[i]);
    if (n > 0 && (size_t)n < sizeof(dict))
        n += snprintf(dict + n, sizeof(dict) - (size_t)n, "%s), }", shape->rank == 1 ? "," : "");
    if (n <= 0 || (size_t)n >= sizeof(dict))
        return 0;

    size_t preamble = NPY_MAGIC_SIZE + 4;
    size_t unpadded = preamble + (size_t)n + 1;
    size_t total = (unpadded + NPY_HEADER_ALIGN - 1) / NPY_HEADER_ALIGN * NPY_HEADER_ALIGN;
    if (total > cap || total - preamble > UINT16_MAX)
        return 0;

    size_t header_size = total - preamble;
    memcpy(buf, NPY_MAGIC "\x01\x00", NPY_MAGIC_SIZE + 2);
    buf[8] = (char)(header_size & 0xff);
    buf[9] = (char)(header_size >> 8);
    memcpy(buf + preamble, dict, (size_t)n);
    memset(buf + preamble + n, ' ', total - preamble - (size_t)n - 1);
    buf[total - 1] = '\n';
    return total;
}

/* Writes the data little-endian, swapping through a small buffer on a big-endian host. */
static bool write_data(FILE *f, const unsigned char *data, size_t bytes, size_t elem)
{
    if (host_is_little_endian() || elem == 1)
        return bytes == 0 || fwrite(data, 1, bytes, f) == bytes;

    unsigned char chunk[4096];
    for (size_t at = 0; at < bytes;) {
        size_t n = bytes - at < sizeof(chunk) ? bytes - at : sizeof(chunk);
        memcpy(chunk, data + at, n);
        swap_bytes(chunk, n, elem);
        if (fwrite(chunk, 1, n, f) != n)
            return false;
        at += n;
    }
    return true;
}

static fq_status check_write_args(const char *path, fq_dtype dtype, const fq_shape *shape,
                                  const void *data, size_t *bytes, fq_error *err)
{
    if (path == NULL || shape == NULL)
        return fq_error_set(err, FQ_ERR_INVALID_ARG, "fq_npy_write_file: NULL argument");
    if (dtype_descr(dtype) == NULL)
        return fq_error_set(err, FQ_ERR_UNSUPPORTED, "%s: dtype %s cannot be written to npy",
                            path, fq_dtype_name(dtype));
    if (shape->rank < 0 || shape->rank > FQ_MAX_RANK)
        return fq_error_set(err, FQ_ERR_INVALID_ARG, "%s: rank %d outside 0..%d", path,
                            shape->rank, FQ_MAX_RANK);

    int64_t numel = fq_shape_numel(shape);
    size_t elem = fq_dtype_size(dtype);
    if (numel < 0 || (uint64_t)numel > SIZE_MAX / elem)
        return fq_error_set(err, FQ_ERR_INVALID_ARG, "%s: shape has an unknown or too large "
                            "dimension", path);
    *bytes = (size_t)numel * elem;
    if (data == NULL && *bytes > 0)
        return fq_error_set(err, FQ_ERR_INVALID_ARG, "%s: NULL data", path);
    return FQ_OK;
}

static fq_status write_stream(const char *tmp_path, const char *header, size_t header_size,
                              const void *data, size_t bytes, size_t elem, fq_error *err)
{
    FILE *f = fopen(tmp_path, "wb");
    if (f == NULL)
        return fq_error_set(err, FQ_ERR_IO, "%s: cannot open for writing", tmp_path);
    bool ok = fwrite(header, 1, header_size, f) == header_size && write_data(f, data, bytes, elem);
    if (fclose(f) != 0)
        ok = false;
    if (!ok)
        return fq_error_set(err, FQ_ERR_IO, "%s: write failed", tmp_path);
    return FQ_OK;
}

fq_status fq_npy_write_file(const char *path, fq_dtype dtype, const fq_shape *shape,
                            const void *data, fq_error *err)
{
    size_t bytes = 0;
    fq_status st = check_write_args(path, dtype, shape, data, &bytes, err);
    if (st != FQ_OK)
        return st;

    char header[512];
    size_t header_size = format_header(dtype_descr(dtype), shape, header, sizeof(header));
    if (header_size == 0)
        return fq_error_set(err, FQ_ERR_INTERNAL, "%s: npy header does not fit", path);

    long pid = 0;
#ifdef NPY_HAVE_GETPID
    pid = (long)getpid();
#endif
    size_t tmp_cap = strlen(path) + 32;
    char *tmp_path = fq_malloc(tmp_cap);
    if (tmp_path == NULL)
        return fq_error_set(err, FQ_ERR_NO_MEMORY, "%s: cannot allocate a path", path);
    snprintf(tmp_path, tmp_cap, "%s.tmp.%ld", path, pid);

    st = write_stream(tmp_path, header, header_size, data, bytes, fq_dtype_size(dtype), err);
    if (st == FQ_OK && rename(tmp_path, path) != 0)
        st = fq_error_set(err, FQ_ERR_IO, "%s: cannot rename %s into place", path, tmp_path);
    if (st != FQ_OK)
        remove(tmp_path);
    fq_free(tmp_path);
    return st;
}
#endif

void fq_npy_free(fq_npy *npy)
{
    if (npy == NULL)
        return;
    fq_free_aligned(npy->data);
    memset(npy, 0, sizeof(*npy));
}
