/* The byte layout of .fqm files (docs/FQM_FORMAT.md), shared by the writer and the reader:
 * field offsets, record sizes, codes, and little-endian loads and stores. */
#ifndef FQ_FORMAT_FQM_LAYOUT_H
#define FQ_FORMAT_FQM_LAYOUT_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "facequant/format.h"

/* Header fields: byte offsets from the start of the file. */
enum {
    FQM_HEADER_MAGIC = 0,
    FQM_HEADER_VERSION_MAJOR = 8,  /* u16 */
    FQM_HEADER_VERSION_MINOR = 10, /* u16 */
    FQM_HEADER_FLAGS = 12,         /* u32, no flag is defined in 1.0 */
    FQM_HEADER_HEADER_SIZE = 16,   /* u32 */
    FQM_HEADER_SECTION_COUNT = 20, /* u32 */
    FQM_HEADER_TABLE_OFFSET = 24,  /* u64 */
    FQM_HEADER_FILE_SIZE = 32,     /* u64 */
    FQM_HEADER_HEADER_CRC = 40,    /* u32, CRC of the header with this field zero */
    FQM_HEADER_TABLE_CRC = 44,     /* u32, CRC of the section table */
    FQM_HEADER_SIZE = 64           /* 48..63 reserved, zero */
};

/* A section table entry: 32 bytes. */
enum {
    FQM_ENTRY_TYPE = 0,      /* u32 */
    FQM_ENTRY_ALIGNMENT = 4, /* u32, a power of two that offset is a multiple of */
    FQM_ENTRY_OFFSET = 8,    /* u64, from the start of the file */
    FQM_ENTRY_SIZE = 16,     /* u64 */
    FQM_ENTRY_CRC = 24,      /* u32 */
    FQM_ENTRY_RESERVED = 28, /* u32, zero */
    FQM_ENTRY_BYTES = 32
};

typedef enum fqm_section_type {
    FQM_SECTION_STRINGS = 1,
    FQM_SECTION_GRAPH = 2,
    FQM_SECTION_VALUES = 3,
    FQM_SECTION_NODES = 4,
    FQM_SECTION_WEIGHTS = 5,
    FQM_SECTION_META = 6,
    FQM_SECTION_KNOWN = 7 /* one past the last type this version knows */
} fqm_section_type;

/* Section heads and records. */
enum {
    FQM_STRINGS_HEAD = 8,       /* u32 count, u32 reserved */
    FQM_STRING_ENTRY = 8,       /* u32 offset into the bytes after the index, u32 length */
    FQM_GRAPH_HEAD = 32,        /* i64 ir_version, i64 opset, u32 name, u32 producer,
                                   u32 n_inputs, u32 n_outputs; then the u32 index lists */
    FQM_VALUES_HEAD = 8,        /* u32 count, u32 record size */
    FQM_VALUE_RECORD = 144,
    FQM_NODES_HEAD = 4,         /* u32 count */
    FQM_NODE_RECORD = 32,       /* fixed part; then inputs, outputs, attributes */
    FQM_ATTR_HEAD = 8,          /* u32 name, u32 type; then the payload */
    FQM_META_HEAD = 4,          /* u32 count; then u32 key, u32 value per entry */
    FQM_QUANT_ALIGNMENT = 16    /* of scale and zero-point arrays in WEIGHTS */
};

/* Constant data: FQ_FQM_WEIGHT_ALIGNMENT (64) for tensors of FQM_ALIGNED_DATA_MIN bytes or
 * more, the weight blocks kernels stream through; smaller ones (scales, zero points, biases,
 * shapes, small filters) at 16, which is all their readers need and saves the padding of
 * hundreds of small tensors (since version 1.1; 1.0 files, with everything at 64, read the
 * same). */
enum { FQM_SMALL_DATA_ALIGNMENT = 16, FQM_ALIGNED_DATA_MIN = 1024 };
static inline uint64_t fqm_data_alignment(uint64_t size)
{
    return size >= FQM_ALIGNED_DATA_MIN ? FQ_FQM_WEIGHT_ALIGNMENT : FQM_SMALL_DATA_ALIGNMENT;
}

/* Value record fields. */
enum {
    FQM_VALUE_NAME = 0,        /* u32 string */
    FQM_VALUE_KIND = 4,        /* u8 */
    FQM_VALUE_DTYPE = 5,       /* u8 */
    FQM_VALUE_RANK = 6,        /* u8 */
    FQM_VALUE_FLAGS = 7,       /* u8 */
    FQM_VALUE_DIMS = 8,        /* i64 x 8 */
    FQM_VALUE_DIM_PARAMS = 72, /* u32 string x 8 */
    FQM_VALUE_QUANT_AXIS = 104,
    FQM_VALUE_QUANT_COUNT = 108,
    FQM_VALUE_SCALE_OFFSET = 112, /* u64 in WEIGHTS */
    FQM_VALUE_ZERO_POINT_OFFSET = 120,
    FQM_VALUE_DATA_OFFSET = 128,
    FQM_VALUE_DATA_SIZE = 136
};

enum { FQM_VALUE_IS_OUTPUT = 1u << 0, FQM_VALUE_HAS_DATA = 1u << 1 };

/* Node record fields. */
enum {
    FQM_NODE_NAME = 0,       /* u32 string */
    FQM_NODE_OP_TYPE = 4,    /* u32 string */
    FQM_NODE_N_INPUTS = 8,   /* u32 */
    FQM_NODE_N_OUTPUTS = 12, /* u32 */
    FQM_NODE_N_ATTRS = 16,   /* u32 */
    FQM_NODE_ACT_KIND = 20,  /* u8 */
    FQM_NODE_FLAGS = 21,     /* u8 */
    FQM_NODE_ACT_ALPHA = 24, /* f32 */
    FQM_NODE_ACT_BETA = 28   /* f32 */
};

enum { FQM_NODE_DEAD = 1u << 0 };

/* A string reference that refers to no string (NULL in the IR). */
#define FQM_NO_STRING 0xFFFFFFFFu
/* A WEIGHTS offset of absent data. */
#define FQM_NO_OFFSET UINT64_MAX
/* The largest value (tensor) a file may describe, 1 TiB: far above any model, and low enough
 * that the shape functions' and the memory planner's products of dimensions cannot overflow. */
#define FQM_MAX_VALUE_BYTES (1ull << 40)
/* Largest activation kind code (FQ_ACT_SIGMOID). */
#define FQM_ACT_LAST 5

/* dtype codes in the file. They equal the fq_dtype values of 1.0 but are a part of the format:
 * a new dtype gets the next free code. */
/* Decodes size bytes at data into a graph whose constants borrow data (fqm_reader.c); the
 * public readers wrap it. flags are fq_fqm_read_options flags. */
fq_status fq_fqm_decode(const void *data, size_t size, unsigned flags, fq_graph **out,
                        fq_fqm_meta **meta, int *n_meta, fq_error *err);

static inline uint8_t fqm_dtype_code(fq_dtype dtype)
{
    return (uint8_t)dtype;
}

static inline bool fqm_dtype_from_code(uint8_t code, fq_dtype *dtype)
{
    if (code >= FQ_DTYPE_COUNT)
        return false;
    *dtype = (fq_dtype)code;
    return true;
}

static inline uint64_t fqm_align_up(uint64_t x, uint64_t alignment)
{
    return (x + alignment - 1) & ~(alignment - 1);
}

static inline bool fqm_host_is_little_endian(void)
{
    const uint16_t probe = 1;
    unsigned char first;
    memcpy(&first, &probe, 1);
    return first == 1;
}

static inline uint16_t fqm_get_u16(const unsigned char *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t fqm_get_u32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t fqm_get_u64(const unsigned char *p)
{
    return (uint64_t)fqm_get_u32(p) | (uint64_t)fqm_get_u32(p + 4) << 32;
}

static inline float fqm_get_f32(const unsigned char *p)
{
    uint32_t bits = fqm_get_u32(p);
    float f;
    memcpy(&f, &bits, sizeof(f));
    return f;
}

static inline void fqm_put_u16(unsigned char *p, uint16_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
}

static inline void fqm_put_u32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static inline void fqm_put_u64(unsigned char *p, uint64_t v)
{
    fqm_put_u32(p, (uint32_t)v);
    fqm_put_u32(p + 4, (uint32_t)(v >> 32));
}

static inline void fqm_put_f32(unsigned char *p, float f)
{
    uint32_t bits;
    memcpy(&bits, &f, sizeof(bits));
    fqm_put_u32(p, bits);
}

#endif
