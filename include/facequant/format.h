/* facequant: .fqm, facequant's own model file.
 *
 * An .fqm file holds one graph IR exactly as it is in memory after the passes (or after the
 * quantizer): every value's dtype, shape, symbolic dims, quantization parameters and constant
 * bytes, every node's op type, wiring, attributes and fused activation, plus free-form
 * key/value metadata (the preprocessing a model expects, say). Reading needs no shape inference
 * run by the caller: the graph goes straight to fq_session_create. The full layout is in
 * docs/FQM_FORMAT.md; in short:
 *
 *   header (64 bytes)    magic "FQM1\r\n\x1a\n", version major.minor, flags, header size,
 *                        section count, section table offset, file size, CRC32 of the header
 *                        and of the section table
 *   section table        per section: type, alignment, offset, size, CRC32 (32 bytes each)
 *   STRINGS              every name, op type, attribute string and metadata string
 *   GRAPH                ir_version, opset, name, producer, graph input and output lists
 *   VALUES               one fixed-size record per value
 *   NODES                one record per node, with its attributes
 *   META                 key/value string pairs (optional)
 *   WEIGHTS              constant bytes, 64-byte aligned (under 1024 bytes: 16); the
 *                        section 64-byte aligned
 *
 * Sections, in detail (offsets in bytes; a string reference is a u32 index into STRINGS,
 * 0xFFFFFFFF for none; WEIGHTS offsets count from the start of WEIGHTS):
 *
 *   header        0 magic[8], 8 u16 major, 10 u16 minor, 12 u32 flags, 16 u32 header size (64),
 *                 20 u32 section count, 24 u64 table offset, 32 u64 file size, 40 u32 header
 *                 CRC (of the header with this field zero), 44 u32 table CRC, 48 reserved[16]
 *   table entry   0 u32 type, 4 u32 alignment, 8 u64 offset, 16 u64 size, 24 u32 CRC, 28 reserved
 *                 types: 1 STRINGS, 2 GRAPH, 3 VALUES, 4 NODES, 5 WEIGHTS, 6 META
 *   STRINGS       u32 count, u32 reserved, count x {u32 offset, u32 length}, then the bytes
 *   GRAPH         i64 ir_version, i64 opset, u32 name, u32 producer, u32 n_inputs,
 *                 u32 n_outputs, then the u32 value indices of the inputs and the outputs
 *   VALUES        u32 count, u32 record size (144), then per value: 0 u32 name, 4 u8 kind
 *                 (0 intermediate, 1 input, 2 constant), 5 u8 dtype (0 undefined, 1 f32, 2 f16,
 *                 3 i8, 4 u8, 5 i32, 6 i64, 7 bool), 6 u8 rank, 7 u8 flags (1 graph output,
 *                 2 has data), 8 i64 dims[8] (-1 unknown), 72 u32 dim_param[8], 104 i32 quant
 *                 axis, 108 u32 quant count, 112 u64 scale offset (f32 x count), 120 u64
 *                 zero-point offset (i32 x count), 128 u64 data offset, 136 u64 data size
 *   NODES         u32 count, then per node: u32 name, u32 op type, u32 n_inputs, u32 n_outputs,
 *                 u32 n_attrs, u8 activation (0 none, 1 Relu, 2 Clip, 3 LeakyRelu, 4 PRelu,
 *                 5 Sigmoid), u8 flags (1 dead), u16 reserved, f32 alpha, f32 beta; i32 inputs
 *                 (-1 omitted), i32 outputs; per attribute u32 name, u32 type (1 float, 2 int,
 *                 3 string, 4 tensor, 5 floats, 6 ints, 7 strings) and its payload: f32 | i64 |
 *                 u32 string | i32 value | u32 count + f32s | u32 count + i64s | u32 count +
 *                 u32 strings
 *   META          u32 count, count x {u32 key, u32 value}
 *   WEIGHTS       constants of 1024 bytes or more at multiples of 64, smaller constants
 *                 (since 1.1) and scale and zero-point arrays at multiples of 16
 *
 * Everything is little-endian. Each section carries a CRC32 (IEEE 802.3 polynomial) that the
 * reader verifies; every offset, size, count and string reference is checked against the
 * bytes that exist before it is used. A damaged file gives FQ_ERR_PARSE naming the section and
 * the byte offset; a file of a newer major version gives FQ_ERR_UNSUPPORTED naming both
 * versions. Section types unknown to this reader (added by a later minor version) are skipped.
 *
 * Weights are used in place: a file is mapped read-only and constants point into the mapping;
 * a memory read points constants into the caller's buffer. Such constants have data_borrowed
 * set. The reader runs on little-endian hosts only, which every supported target is.
 */
#ifndef FACEQUANT_FORMAT_H
#define FACEQUANT_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#include "facequant/ir.h"

#ifdef __cplusplus
extern "C" {
#endif

#define FQ_FQM_MAGIC "FQM1\r\n\x1a\n" /* 8 bytes, the same for every version */
#define FQ_FQM_MAGIC_SIZE 8
#define FQ_FQM_VERSION_MAJOR 1
#define FQ_FQM_VERSION_MINOR 1
/* Alignment of the WEIGHTS section in the file and of each constant inside it; a buffer given
 * to fq_fqm_read_memory must be aligned to it unless FQ_FQM_READ_COPY is set. */
#define FQ_FQM_WEIGHT_ALIGNMENT 64

/* One metadata entry. The writer only reads the strings; the reader returns an array of
 * n_meta entries in one allocation, strings included, freed with fq_fqm_meta_free. */
typedef struct fq_fqm_meta {
    char *key;
    char *value;
} fq_fqm_meta;

/* Metadata keys the tools write (any other key is allowed). */
#define FQ_FQM_META_SOURCE "source"             /* file name the model was converted from */
#define FQ_FQM_META_INPUT_SIZE "input_size"     /* "WxH" the input size was fixed at */
#define FQ_FQM_META_COLOR "color"               /* "rgb" or "bgr" */
#define FQ_FQM_META_MEAN "mean"                 /* "m0,m1,m2": (x - mean) / std per channel */
#define FQ_FQM_META_STD "std"
#define FQ_FQM_META_RESIZE "resize"             /* "letterbox" (keep aspect, pad) or "stretch" */
#define FQ_FQM_META_CARD "card"                 /* name of the model card it came with */

/* Reader flags (fq_fqm_read_options.flags). */
enum {
    /* Do not compute the CRC32 of the WEIGHTS section (faster load of a trusted file); the
     * other sections are always verified. */
    FQ_FQM_READ_SKIP_WEIGHTS_CRC = 1u << 0,
    /* fq_fqm_read_memory: copy the buffer into an aligned allocation the graph owns instead of
     * borrowing it (needed when the buffer is not 64-byte aligned or does not outlive the
     * graph). Ignored by fq_fqm_read_file. */
    FQ_FQM_READ_COPY = 1u << 1,
};

typedef struct fq_fqm_read_options {
    unsigned flags;
} fq_fqm_read_options;

/* Whether size bytes at data begin with the .fqm magic (to tell .fqm from .onnx). */
bool fq_fqm_is_fqm(const void *data, size_t size);

/* Serializes graph and n_meta metadata entries (meta may be NULL when n_meta is 0) into a new
 * fq_malloc buffer, *data (freed with fq_free), of *size bytes. The graph is only read. A graph
 * the format cannot hold (a constant without a known shape, a value with data that is not a
 * constant, a dangling index) is refused with FQ_ERR_INVALID_ARG naming the value or node. */
fq_status fq_fqm_write_memory(const fq_graph *graph, const fq_fqm_meta *meta, int n_meta,
                              void **data, size_t *size, fq_error *err);

/* Decodes an .fqm image of size bytes. Constants point into data (data_borrowed), so data must
 * stay valid and unchanged until fq_graph_free, and be FQ_FQM_WEIGHT_ALIGNMENT aligned; with
 * FQ_FQM_READ_COPY the graph gets its own copy instead (graph->backing). options may be NULL
 * (verify every CRC, borrow). meta and n_meta may be NULL when the metadata is not wanted;
 * otherwise *meta (NULL when there is none) is freed with fq_fqm_meta_free. The graph's ops are
 * bound (fq_graph_bind_ops) and its shapes are checked by running each node's shape function.
 * On failure *out is NULL and nothing is left allocated. */
fq_status fq_fqm_read_memory(const void *data, size_t size, const fq_fqm_read_options *options,
                             fq_graph **out, fq_fqm_meta **meta, int *n_meta, fq_error *err);

/* The value of key among n entries, or NULL. */
const char *fq_fqm_meta_find(const fq_fqm_meta *meta, int n, const char *key);
void fq_fqm_meta_free(fq_fqm_meta *meta);

/* The file functions use POSIX open/mmap/rename; a build with -Dfiles=false leaves them out. */
#if defined(FQ_HAVE_FILES)
/* Writes an .fqm file: first to PATH.tmp.<pid>, then renamed over path, so that a reader never
 * sees a partial file; on failure no file is left behind. */
fq_status fq_fqm_write_file(const fq_graph *graph, const fq_fqm_meta *meta, int n_meta,
                            const char *path, fq_error *err);

/* Maps the file read-only (private) and decodes it as fq_fqm_read_memory does, constants
 * pointing into the mapping: graph->backing is the mapping's address, unmapped by
 * fq_graph_free. Messages start with the path. */
fq_status fq_fqm_read_file(const char *path, const fq_fqm_read_options *options,
                           fq_graph **out, fq_fqm_meta **meta, int *n_meta, fq_error *err);
#endif

#ifdef __cplusplus
}
#endif

#endif
