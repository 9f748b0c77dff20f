/* facequant: the graph IR, the one place a model lives.
 *
 * A graph is two arrays: values (tensors: graph inputs, constants, intermediates, outputs) and
 * nodes (operators in topological order). Nodes name their inputs and outputs by value index;
 * index -1 stands for an omitted optional input. Arrays may be reallocated when values or nodes
 * are added, so code keeps indices, never pointers, across calls that add.
 *
 * Ownership: the graph owns every string, shape, attribute and constant buffer in it; fq_graph_free
 * releases them all.
 *
 * Shapes: dims[i] >= 0 is a known size; FQ_DIM_UNKNOWN marks a dimension not known yet, whose
 * symbolic name (ONNX dim_param, such as "batch") is kept in dim_param[i] when the file gave one.
 * After the input size is fixed and shape inference has run, every shape is known; a session
 * requires that.
 *
 * Quantization: a value may carry scale and zero point, per tensor (axis -1, count 1) or per
 * channel along an axis (count = size of that axis). The quantizer rewrites graphs by setting
 * these on values of dtype i8/u8/i32 and replacing nodes.
 */
#ifndef FACEQUANT_IR_H
#define FACEQUANT_IR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "facequant/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum fq_dtype {
    FQ_DTYPE_UNDEFINED = 0,
    FQ_DTYPE_F32,
    FQ_DTYPE_F16,
    FQ_DTYPE_I8,
    FQ_DTYPE_U8,
    FQ_DTYPE_I32,
    FQ_DTYPE_I64,
    FQ_DTYPE_BOOL, /* one byte per element; comparison results and some conformance cases */
    FQ_DTYPE_COUNT
} fq_dtype;

/* Bytes per element (0 for FQ_DTYPE_UNDEFINED). */
size_t fq_dtype_size(fq_dtype dtype);
/* Lower-case name: "f32", "f16", "i8", "u8", "i32", "i64", "bool", "undefined". */
const char *fq_dtype_name(fq_dtype dtype);

#define FQ_MAX_RANK 8
#define FQ_DIM_UNKNOWN (-1)

typedef struct fq_shape {
    int rank;
    int64_t dims[FQ_MAX_RANK];
} fq_shape;

/* Number of elements, 1 for rank 0; -1 if a dimension is unknown or the product overflows. */
int64_t fq_shape_numel(const fq_shape *shape);
bool fq_shape_is_known(const fq_shape *shape);
bool fq_shape_equal(const fq_shape *a, const fq_shape *b);
/* Writes "1x3x640x640" (unknown dims as "?") into buf; returns buf. */
char *fq_shape_format(const fq_shape *shape, char *buf, size_t size);

typedef struct fq_quant {
    int axis;           /* -1: per tensor; otherwise the channel axis */
    int count;          /* number of scales: 0 (not quantized), 1, or the axis size */
    float *scale;       /* count entries */
    int32_t *zero_point; /* count entries */
} fq_quant;

typedef enum fq_value_kind {
    FQ_VALUE_INTERMEDIATE = 0,
    FQ_VALUE_INPUT,    /* a graph input the caller supplies */
    FQ_VALUE_CONSTANT  /* data is set: an initializer, a Constant's tensor, or a folded result */
} fq_value_kind;

typedef struct fq_value {
    char *name;
    fq_value_kind kind;
    fq_dtype dtype;
    fq_shape shape;
    char *dim_param[FQ_MAX_RANK]; /* symbolic names of unknown dims, or NULL */
    void *data;                    /* constant data, fq_shape_numel * fq_dtype_size bytes */
    bool data_borrowed;            /* data lies in memory the graph does not own (a mapped
                                      .fqm file or a caller's buffer, see fq_graph.backing):
                                      never freed or written through this value */
    fq_quant quant;
    bool is_output;                /* listed in the graph outputs */
} fq_value;

typedef enum fq_attr_type {
    FQ_ATTR_FLOAT = 1,
    FQ_ATTR_INT,
    FQ_ATTR_STRING,
    FQ_ATTR_TENSOR,
    FQ_ATTR_FLOATS,
    FQ_ATTR_INTS,
    FQ_ATTR_STRINGS
} fq_attr_type;

typedef struct fq_attr {
    char *name;
    fq_attr_type type;
    int64_t i;        /* FQ_ATTR_INT */
    float f;          /* FQ_ATTR_FLOAT */
    char *s;          /* FQ_ATTR_STRING (NUL-terminated copy; s_len bytes before the NUL) */
    size_t s_len;
    int count;        /* elements of ints/floats/strings */
    int64_t *ints;    /* FQ_ATTR_INTS */
    float *floats;    /* FQ_ATTR_FLOATS */
    char **strings;   /* FQ_ATTR_STRINGS */
    int tensor;       /* FQ_ATTR_TENSOR: index of a constant value that is not wired to any node */
} fq_attr;

/* An activation fused into the node that produces its input (Conv, Gemm). */
typedef enum fq_activation_kind {
    FQ_ACT_NONE = 0,
    FQ_ACT_RELU,
    FQ_ACT_CLIP,       /* min = alpha, max = beta */
    FQ_ACT_LEAKY_RELU, /* slope = alpha */
    FQ_ACT_PRELU,      /* slopes are the node's last input (a constant value) */
    FQ_ACT_SIGMOID
} fq_activation_kind;

typedef struct fq_activation {
    fq_activation_kind kind;
    float alpha;
    float beta;
} fq_activation;

typedef struct fq_node {
    char *name;          /* never NULL: the reader names unnamed nodes "<op>_<index>" */
    char *op_type;       /* ONNX op name, such as "Conv" */
    int op;              /* index in the op table (facequant/ops.h), -1 if unknown */
    int n_inputs;
    int *inputs;         /* value indices; -1 for an omitted optional input */
    int n_outputs;
    int *outputs;
    int n_attrs;
    fq_attr *attrs;
    fq_activation act;   /* fused activation, FQ_ACT_NONE unless a pass fused one */
    bool dead;           /* marked for removal by a pass; fq_graph_compact drops it */
} fq_node;

typedef struct fq_graph {
    fq_value *values;
    int n_values;
    int cap_values;
    fq_node *nodes;
    int n_nodes;
    int cap_nodes;
    int *inputs;         /* graph inputs (values of kind FQ_VALUE_INPUT), in file order */
    int n_inputs;
    int *outputs;        /* graph outputs, in file order */
    int n_outputs;
    int64_t opset;       /* ai.onnx opset imported by the model */
    int64_t ir_version;
    char *name;
    char *producer;
    /* Memory that borrowed constant data lies in (a file mapping, say), released by
     * fq_graph_free through backing_release; NULL when every constant is owned. */
    void *backing;
    void (*backing_release)(void *backing);
} fq_graph;

fq_status fq_graph_create(fq_graph **out, fq_error *err);
void fq_graph_free(fq_graph *graph);
/* Deep copy, constants included. */
fq_status fq_graph_clone(const fq_graph *graph, fq_graph **out, fq_error *err);

/* Adds a value named name (copied); returns its index in *index. dtype and shape may be filled
 * in later. */
fq_status fq_graph_add_value(fq_graph *graph, const char *name, fq_dtype dtype,
                             const fq_shape *shape, int *index, fq_error *err);
/* Makes value a constant holding a copy of data (fq_shape_numel * fq_dtype_size bytes), or takes
 * ownership of an fq_malloc_aligned buffer when take is true. */
fq_status fq_value_set_data(fq_graph *graph, int value, const void *data, bool take,
                            fq_error *err);
/* Looks a value up by name (linear scan); -1 if absent. */
int fq_graph_find_value(const fq_graph *graph, const char *name);

/* Adds a node at the end of the node list with copies of the given input and output indices. */
fq_status fq_graph_add_node(fq_graph *graph, const char *name, const char *op_type,
                            const int *inputs, int n_inputs, const int *outputs, int n_outputs,
                            int *index, fq_error *err);
/* Appends an attribute to a node; the caller fills the union fields of the returned pointer. */
fq_status fq_node_add_attr(fq_graph *graph, int node, const char *name, fq_attr_type type,
                           fq_attr **attr, fq_error *err);
/* Appends one input to a node. */
fq_status fq_node_append_input(fq_graph *graph, int node, int value, fq_error *err);

/* Attribute look-up on a node; NULL if absent. */
const fq_attr *fq_node_attr(const fq_node *node, const char *name);
/* Typed look-ups with defaults for absent attributes. */
int64_t fq_node_attr_int(const fq_node *node, const char *name, int64_t fallback);
float fq_node_attr_float(const fq_node *node, const char *name, float fallback);
const char *fq_node_attr_string(const fq_node *node, const char *name, const char *fallback);
/* Copies an INTS attribute into out (at most max entries); returns the count, or -1 if absent,
 * or -2 if it has more than max entries. */
int fq_node_attr_ints(const fq_node *node, const char *name, int64_t *out, int max);

/* Input/output helpers: the value behind input i, or NULL for an omitted or absent input. */
const fq_value *fq_node_input(const fq_graph *graph, const fq_node *node, int i);
fq_value *fq_node_output(fq_graph *graph, const fq_node *node, int i);
bool fq_value_is_constant(const fq_value *value);

/* Drops dead nodes, and values no node, graph input or output refers to (attribute tensors of
 * live nodes are kept). Value indices change: every reference is rewritten. */
fq_status fq_graph_compact(fq_graph *graph, fq_error *err);

/* Checks the invariants: indices in range, every node input produced before use (or constant or
 * graph input), one producer per value, outputs produced. Passes call it in tests. */
fq_status fq_graph_validate(const fq_graph *graph, fq_error *err);

/* Index of the node producing value, or -1 (graph input, constant). Linear scan. */
int fq_graph_producer(const fq_graph *graph, int value);
/* Number of live node inputs (plus graph outputs) that read value. */
int fq_graph_use_count(const fq_graph *graph, int value);
/* Replaces every use of value `from` (node inputs and graph outputs) by `to`. */
void fq_graph_replace_uses(fq_graph *graph, int from, int to);

/* Makes value `kept` take the place of value `dropped` for every reader. Where `dropped` is a
 * graph output, the producer of `kept` writes `dropped` instead, so the output keeps its name.
 * Returns false (and changes nothing) when that is impossible: `kept` is a graph output too, or
 * has no producer. */
bool fq_graph_merge_values(fq_graph *graph, int kept, int dropped);

#ifdef __cplusplus
}
#endif

#endif
