/* QLinearConv: hand-computed cases of the reference loop (zero points, per-channel weights,
 * rounding, saturation, layouts, auto_pad, fused Relu and Clip), refusals naming the node, and
 * the fast path (prepare + exec) equal to the reference bit for bit over random shapes, one and
 * two threads, under every ISA cap this CPU has. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "facequant/alloc.h"
#include "facequant/cpu.h"
#include "graph_builder.h"
#include "op_harness.h"
#include "qs8_gemm.h"
#include "runtime/threadpool.h"
#include "test_util.h"

enum { ROUNDS = 16, MAX_CHANNELS = 128 };

/* The inputs of one node; zero points are given as ints and stored in their tensor's dtype. */
typedef struct qconv_inputs {
    fq_dtype x_type;
    int64_t x_dims[4];
    const void *x;
    float x_scale;
    int x_zero_point;
    fq_dtype w_type;
    int64_t w_dims[4];
    const void *w;
    int w_count;               /* entries of w_scale and w_zero_point: 1 or M */
    const float *w_scale;
    const int *w_zero_point;
    fq_dtype y_type;
    float y_scale;
    int y_zero_point;
    const int32_t *bias;       /* NULL: omitted */
} qconv_inputs;

static void add_scalar(fq_harness *h, fq_dtype dtype, int value)
{
    uint8_t bytes[4] = {(uint8_t)value}; /* room for a wrongly typed f32 zero point */
    fq_harness_input(h, dtype, 0, NULL, bytes, true);
}

static void add_inputs(fq_harness *h, const qconv_inputs *q)
{
    fq_harness_input(h, q->x_type, 4, q->x_dims, q->x, false);
    fq_harness_input(h, FQ_DTYPE_F32, 0, NULL, &q->x_scale, true);
    add_scalar(h, q->x_type, q->x_zero_point);
    fq_harness_input(h, q->w_type, 4, q->w_dims, q->w, true);
    int64_t count = q->w_count;
    fq_harness_input(h, FQ_DTYPE_F32, 1, &count, q->w_scale, true);
    uint8_t zero_points[MAX_CHANNELS];
    for (int j = 0; j < q->w_count; j++)
        zero_points[j] = (uint8_t)q->w_zero_point[j];
    fq_harness_input(h, q->w_type, 1, &count, zero_points, true);
    fq_harness_input(h, FQ_DTYPE_F32, 0, NULL, &q->y_scale, true);
    add_scalar(h, q->y_type, q->y_zero_point);
    if (q->bias != NULL)
        fq_harness_input(h, FQ_DTYPE_I32, 1, &q->w_dims[0], q->bias, true);
}

static void harness_start(fq_harness *h, const qconv_inputs *q)
{
    fq_harness_init(h, "QLinearConv", 13);
    add_inputs(h, q);
}

static void expect_bytes(const fq_harness *h, fq_dtype dtype, const int64_t *dims,
                         const void *expected)
{
    const fq_tensor *y = &h->outputs[0];
    assert_int_equal(y->dtype, dtype);
    assert_int_equal(y->shape.rank, 4);
    for (int d = 0; d < 4; d++)
        assert_int_equal(y->shape.dims[d], dims[d]);
    assert_memory_equal(y->data, expected, (size_t)fq_shape_numel(&y->shape));
}

static void expect_refused(fq_harness *h, fq_status status, const char *phrase)
{
    assert_int_equal(fq_harness_run(h), status);
    assert_non_null(strstr(h->err.message, "'node'"));
    assert_non_null(strstr(h->err.message, "QLinearConv"));
    assert_non_null(strstr(h->err.message, phrase));
}

/* ---- the reference loop on hand-computed cases ---- */

/* x - 1 = 0..8, w - 2 = [1 2; 3 4], bias 10: sums 37 47 67 77; multiplier 0.5 * 0.25 / 0.25
 * = 0.5 gives 18.5 23.5 33.5 38.5, which round half to even to 18 24 34 38, plus 5. */
static void test_reference_computes_a_hand_worked_convolution(void **state)
{
    (void)state;
    static const uint8_t x[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    static const uint8_t w[4] = {3, 4, 5, 6};
    static const float w_scale = 0.25f;
    static const int w_zero_point = 2;
    static const int32_t bias = 10;
    qconv_inputs q = {FQ_DTYPE_U8, {1, 1, 3, 3}, x, 0.5f, 1, FQ_DTYPE_U8, {1, 1, 2, 2}, w,
                      1, &w_scale, &w_zero_point, FQ_DTYPE_U8, 0.25f, 5, &bias};
    fq_harness h;
    harness_start(&h, &q);
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    static const uint8_t expected[4] = {23, 29, 39, 43};
    expect_bytes(&h, FQ_DTYPE_U8, (const int64_t[]){1, 1, 2, 2}, expected);
    fq_harness_free(&h);
}

/* i8 x (zero point -1), 1x1 weights [3, -2] with per-channel zero points [1, -1], stride 2 and
 * pads 1: only the centre output reads x (value 0 - -1 = 1); the rest is bias alone. */
static void test_reference_handles_i8_and_per_channel_zero_points(void **state)
{
    (void)state;
    static const int8_t x[9] = {-4, -3, -2, -1, 0, 1, 2, 3, 4};
    static const int8_t w[2] = {3, -2};
    static const float w_scale[2] = {1.0f, 2.0f};
    static const int w_zero_point[2] = {1, -1};
    static const int32_t bias[2] = {-5, 7};
    qconv_inputs q = {FQ_DTYPE_I8, {1, 1, 3, 3}, x, 1.0f, -1, FQ_DTYPE_I8, {2, 1, 1, 1}, w,
                      2, w_scale, w_zero_point, FQ_DTYPE_I8, 0.5f, -3, bias};
    fq_harness h;
    harness_start(&h, &q);
    fq_harness_attr_ints(&h, "strides", 2, (const int64_t[]){2, 2});
    fq_harness_attr_ints(&h, "pads", 4, (const int64_t[]){1, 1, 1, 1});
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    /* ch0: (-5) * 2 - 3 = -13, centre (1 * 2 - 5) * 2 - 3 = -9; ch1: 7 * 4 - 3 = 25,
     * centre (1 * -1 + 7) * 4 - 3 = 21. */
    static const int8_t expected[18] = {-13, -13, -13, -13, -9, -13, -13, -13, -13,
                                        25, 25, 25, 25, 21, 25, 25, 25, 25};
    expect_bytes(&h, FQ_DTYPE_I8, (const int64_t[]){1, 2, 3, 3}, expected);
    fq_harness_free(&h);
}

/* A 1x1 convolution of one channel: y = round(x * multiplier) + y_zero_point. */
static void run_scaling(const void *x, int pixels, fq_dtype x_type, int x_zero_point,
                        int8_t weight, float multiplier, fq_dtype y_type, int y_zero_point,
                        const int32_t *bias, fq_activation act, fq_harness *h)
{
    static const int zero = 0;
    qconv_inputs q = {x_type, {1, 1, 1, pixels}, x, 1.0f, x_zero_point, FQ_DTYPE_I8,
                      {1, 1, 1, 1}, &weight, 1, &multiplier, &zero, y_type, 1.0f,
                      y_zero_point, bias};
    harness_start(h, &q);
    fq_harness_activation(h, act);
    assert_int_equal(fq_harness_run(h), FQ_OK);
}

static void test_reference_rounds_half_to_even(void **state)
{
    (void)state;
    static const uint8_t x[4] = {1, 3, 5, 7};
    fq_harness h;
    run_scaling(x, 4, FQ_DTYPE_U8, 0, 1, 0.5f, FQ_DTYPE_U8, 10, NULL,
                (fq_activation){FQ_ACT_NONE, 0, 0}, &h);
    static const uint8_t expected[4] = {10, 12, 12, 14};
    expect_bytes(&h, FQ_DTYPE_U8, (const int64_t[]){1, 1, 1, 4}, expected);
    fq_harness_free(&h);
}

static void test_reference_saturates_to_u8(void **state)
{
    (void)state;
    static const uint8_t x[2] = {0, 255};
    static const int32_t bias = -1000;
    fq_harness h;
    run_scaling(x, 2, FQ_DTYPE_U8, 0, 127, 1.0f, FQ_DTYPE_U8, 0, &bias,
                (fq_activation){FQ_ACT_NONE, 0, 0}, &h);
    static const uint8_t expected[2] = {0, 255};
    expect_bytes(&h, FQ_DTYPE_U8, (const int64_t[]){1, 1, 1, 2}, expected);
    fq_harness_free(&h);
}

static void test_reference_saturates_to_i8(void **state)
{
    (void)state;
    static const uint8_t x[2] = {0, 255};
    static const int32_t bias = -1000;
    fq_harness h;
    run_scaling(x, 2, FQ_DTYPE_U8, 0, 127, 1.0f, FQ_DTYPE_I8, 0, &bias,
                (fq_activation){FQ_ACT_NONE, 0, 0}, &h);
    static const int8_t expected[2] = {-128, 127};
    expect_bytes(&h, FQ_DTYPE_I8, (const int64_t[]){1, 1, 1, 2}, expected);
    fq_harness_free(&h);
}

/* Sums -10, 0, 10 (x zero point 10) at y zero point 100. */
static void test_fused_relu_clamps_at_the_output_zero_point(void **state)
{
    (void)state;
    static const uint8_t x[3] = {0, 10, 20};
    fq_harness h;
    run_scaling(x, 3, FQ_DTYPE_U8, 10, 1, 1.0f, FQ_DTYPE_U8, 100, NULL,
                (fq_activation){FQ_ACT_RELU, 0, 0}, &h);
    static const uint8_t expected[3] = {100, 100, 110};
    expect_bytes(&h, FQ_DTYPE_U8, (const int64_t[]){1, 1, 1, 3}, expected);
    fq_harness_free(&h);
}

/* Clip [-0.5, 1.0] at y_scale 0.1 and zero point 100 is [95, 110] in the quantized domain. */
static void test_fused_clip_clamps_at_the_quantized_bounds(void **state)
{
    (void)state;
    static const uint8_t x[3] = {0, 10, 30};
    static const float w_scale = 1.0f;
    static const int zero = 0;
    static const int8_t w = 1;
    qconv_inputs q = {FQ_DTYPE_U8, {1, 1, 1, 3}, x, 0.1f, 10, FQ_DTYPE_I8, {1, 1, 1, 1}, &w,
                      1, &w_scale, &zero, FQ_DTYPE_U8, 0.1f, 100, NULL};
    fq_harness h;
    harness_start(&h, &q);
    fq_harness_activation(&h, (fq_activation){FQ_ACT_CLIP, -0.5f, 1.0f});
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    static const uint8_t expected[3] = {95, 100, 110};
    expect_bytes(&h, FQ_DTYPE_U8, (const int64_t[]){1, 1, 1, 3}, expected);
    fq_harness_free(&h);
}

/* A 2x2 input [1 2; 3 4] under a 2x2 kernel of ones, every scale 1. */
static void run_auto_pad(const char *auto_pad, fq_harness *h)
{
    static const uint8_t x[4] = {1, 2, 3, 4};
    static const int8_t w[4] = {1, 1, 1, 1};
    static const float one = 1.0f;
    static const int zero = 0;
    qconv_inputs q = {FQ_DTYPE_U8, {1, 1, 2, 2}, x, 1.0f, 0, FQ_DTYPE_I8, {1, 1, 2, 2}, w,
                      1, &one, &zero, FQ_DTYPE_U8, 1.0f, 0, NULL};
    harness_start(h, &q);
    fq_harness_attr_string(h, "auto_pad", auto_pad);
    assert_int_equal(fq_harness_run(h), FQ_OK);
}

static void test_auto_pad_same_upper_pads_the_end(void **state)
{
    (void)state;
    fq_harness h;
    run_auto_pad("SAME_UPPER", &h);
    static const uint8_t expected[4] = {10, 6, 7, 4};
    expect_bytes(&h, FQ_DTYPE_U8, (const int64_t[]){1, 1, 2, 2}, expected);
    fq_harness_free(&h);
}

static void test_auto_pad_same_lower_pads_the_start(void **state)
{
    (void)state;
    fq_harness h;
    run_auto_pad("SAME_LOWER", &h);
    static const uint8_t expected[4] = {1, 3, 4, 10};
    expect_bytes(&h, FQ_DTYPE_U8, (const int64_t[]){1, 1, 2, 2}, expected);
    fq_harness_free(&h);
}

static void test_auto_pad_valid_does_not_pad(void **state)
{
    (void)state;
    fq_harness h;
    run_auto_pad("VALID", &h);
    static const uint8_t expected[1] = {10};
    expect_bytes(&h, FQ_DTYPE_U8, (const int64_t[]){1, 1, 1, 1}, expected);
    fq_harness_free(&h);
}

/* ---- refusals ---- */

static void start_small(fq_harness *h, fq_dtype x_type, int w_count)
{
    static const float x[16] = {0}; /* room for the 16 elements as f32, the widest x tested */
    static const int8_t w[18] = {0};
    static const float scales[3] = {1.0f, 1.0f, 1.0f};
    static const int zeros[3] = {0, 0, 0};
    qconv_inputs q = {x_type, {1, 1, 4, 4}, x, 1.0f, 0, FQ_DTYPE_I8, {2, 1, 3, 3}, w,
                      w_count, scales, zeros, FQ_DTYPE_U8, 1.0f, 0, NULL};
    harness_start(h, &q);
}

static void test_infer_refuses_f32_input_naming_the_node(void **state)
{
    (void)state;
    fq_harness h;
    start_small(&h, FQ_DTYPE_F32, 1);
    expect_refused(&h, FQ_ERR_UNSUPPORTED, "u8 or i8");
    fq_harness_free(&h);
}

static void test_infer_refuses_a_weight_scale_count_other_than_1_or_m(void **state)
{
    (void)state;
    fq_harness h;
    start_small(&h, FQ_DTYPE_U8, 3);
    expect_refused(&h, FQ_ERR_SHAPE, "expects 1 or 2");
    fq_harness_free(&h);
}

static void test_infer_refuses_a_fused_leaky_relu(void **state)
{
    (void)state;
    fq_harness h;
    start_small(&h, FQ_DTYPE_U8, 1);
    fq_harness_activation(&h, (fq_activation){FQ_ACT_LEAKY_RELU, 0.1f, 0});
    expect_refused(&h, FQ_ERR_UNSUPPORTED, "fused activation");
    fq_harness_free(&h);
}

static void test_infer_refuses_groups_that_do_not_fit(void **state)
{
    (void)state;
    fq_harness h;
    start_small(&h, FQ_DTYPE_U8, 1);
    fq_harness_attr_int(&h, "group", 2);
    expect_refused(&h, FQ_ERR_SHAPE, "group 2");
    fq_harness_free(&h);
}

static void test_infer_gives_nhwc_shapes_when_channels_last(void **state)
{
    (void)state;
    static const uint8_t x[2 * 5 * 3] = {0};
    static const int8_t w[4 * 3 * 9] = {0};
    static const float scale = 1.0f;
    static const int zero = 0;
    qconv_inputs q = {FQ_DTYPE_U8, {1, 2, 5, 3}, x, 1.0f, 0, FQ_DTYPE_I8, {4, 3, 3, 3}, w,
                      1, &scale, &zero, FQ_DTYPE_U8, 1.0f, 0, NULL};
    fq_harness h;
    harness_start(&h, &q);
    fq_harness_attr_int(&h, "channels_last", 1);
    fq_harness_attr_ints(&h, "pads", 4, (const int64_t[]){1, 1, 1, 1});
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    const fq_value *y = fq_harness_output_value(&h, 0);
    assert_int_equal(y->shape.dims[0], 1);
    assert_int_equal(y->shape.dims[1], 2);
    assert_int_equal(y->shape.dims[2], 5);
    assert_int_equal(y->shape.dims[3], 4);
    fq_harness_free(&h);
}

/* ---- random layers: NHWC against NCHW, and the fast path against the reference ---- */

typedef struct random_layer {
    int64_t n, c, h, w, m, kh, kw, stride, dilation, group;
    int64_t pads[4];
    bool nhwc;
    fq_activation act;
    uint8_t *x;
    int8_t *weights;
    int32_t *bias;      /* or NULL */
    float x_scale;
    float y_scale;
    float w_scale[MAX_CHANNELS];
    int w_zero_point[MAX_CHANNELS];
    int w_count;        /* 1 or m */
    int x_zero_point;
    int y_zero_point;
} random_layer;

static int64_t random_kernel(void)
{
    static const int64_t sizes[] = {1, 3, 5};
    return sizes[fq_test_rand_int(0, 2)];
}

static void random_channels(random_layer *l)
{
    int kind = fq_test_rand_int(0, 2);
    if (kind == 0) {
        l->group = 1;
        l->c = fq_test_rand_int(1, 67);
        l->m = fq_test_rand_int(1, 67);
    } else if (kind == 1) {
        l->group = fq_test_rand_int(2, 3);
        l->c = l->group * fq_test_rand_int(1, 12);
        l->m = l->group * fq_test_rand_int(1, 12);
    } else {
        l->group = l->c = l->m = fq_test_rand_int(1, 67);
    }
}

typedef enum layer_shape { ANY_SHAPE, POINTWISE, DEPTHWISE_3X3 } layer_shape;

static void pointwise(random_layer *l)
{
    l->kh = l->kw = 1;
    l->stride = 1;
    memset(l->pads, 0, sizeof(l->pads));
}

static void depthwise_3x3(random_layer *l)
{
    l->group = l->c = l->m = fq_test_rand_int(1, 67);
    l->kh = l->kw = 3;
    l->dilation = 1;
    if (l->h + l->pads[0] + l->pads[2] < 3)
        l->h = 3;
    if (l->w + l->pads[1] + l->pads[3] < 3)
        l->w = 3;
}

static void random_geometry(random_layer *l)
{
    l->n = fq_test_rand_int(1, 2);
    l->h = fq_test_rand_int(1, 9);
    l->w = fq_test_rand_int(1, 9);
    l->kh = random_kernel();
    l->kw = fq_test_rand_int(0, 3) == 0 ? random_kernel() : l->kh;
    l->stride = fq_test_rand_int(1, 2);
    l->dilation = fq_test_rand_int(0, 3) == 0 ? 2 : 1;
    int max_pad = fq_test_rand_int(0, 2) == 0 ? 0 : 2;
    for (int i = 0; i < 4; i++)
        l->pads[i] = fq_test_rand_int(0, max_pad);
    /* Keep every axis long enough for one window. */
    int64_t span_h = (l->kh - 1) * l->dilation + 1, span_w = (l->kw - 1) * l->dilation + 1;
    if (l->h + l->pads[0] + l->pads[2] < span_h)
        l->h = span_h;
    if (l->w + l->pads[1] + l->pads[3] < span_w)
        l->w = span_w;
}

static fq_activation random_activation(void)
{
    switch (fq_test_rand_int(0, 2)) {
    case 0: return (fq_activation){FQ_ACT_NONE, 0, 0};
    case 1: return (fq_activation){FQ_ACT_RELU, 0, 0};
    default: return (fq_activation){FQ_ACT_CLIP, fq_test_rand_float(-2.0f, 0.0f),
                                    fq_test_rand_float(0.5f, 6.0f)};
    }
}

static void random_quantization(random_layer *l)
{
    int64_t depth = l->c / l->group * l->kh * l->kw;
    l->x_scale = fq_test_rand_float(0.01f, 0.1f);
    l->x_zero_point = fq_test_rand_int(0, 255);
    l->y_zero_point = fq_test_rand_int(0, 255);
    float mean = 0.0f;
    for (int64_t j = 0; j < l->m; j++) {
        l->w_scale[j] = fq_test_rand_float(0.001f, 0.02f);
        l->w_zero_point[j] = 0;
        mean += l->w_scale[j] / (float)l->m;
    }
    l->w_count = fq_test_rand_int(0, 1) == 0 ? (int)l->m : 1;
    l->y_scale = l->x_scale * mean * (float)(depth * 64 + 1) / fq_test_rand_float(0.2f, 4.0f);
}

static void random_data(random_layer *l)
{
    int64_t x_size = l->n * l->c * l->h * l->w;
    int64_t w_size = l->m * (l->c / l->group) * l->kh * l->kw;
    l->x = fq_malloc((size_t)x_size);
    l->weights = fq_malloc((size_t)w_size);
    assert_non_null(l->x);
    assert_non_null(l->weights);
    for (int64_t i = 0; i < x_size; i++)
        l->x[i] = (uint8_t)fq_test_rand_int(0, 255);
    for (int64_t i = 0; i < w_size; i++)
        l->weights[i] = (int8_t)fq_test_rand_int(-127, 127);
    l->bias = NULL;
    if (fq_test_rand_int(0, 3) > 0) {
        l->bias = fq_malloc((size_t)l->m * sizeof(int32_t));
        assert_non_null(l->bias);
        for (int64_t j = 0; j < l->m; j++)
            l->bias[j] = fq_test_rand_int(-50000, 50000);
    }
}

static void layer_random(random_layer *l, layer_shape shape)
{
    memset(l, 0, sizeof(*l));
    random_channels(l);
    random_geometry(l);
    if (shape == POINTWISE)
        pointwise(l);
    else if (shape == DEPTHWISE_3X3)
        depthwise_3x3(l);
    l->nhwc = fq_test_rand_int(0, 1) == 1;
    l->act = random_activation();
    random_quantization(l);
    random_data(l);
}

static void layer_free(random_layer *l)
{
    fq_free(l->x);
    fq_free(l->weights);
    fq_free(l->bias);
}

/* Starts a harness for l; x as given (NCHW, or NHWC when l->nhwc). */
static void layer_start(fq_harness *h, const random_layer *l, const uint8_t *x)
{
    qconv_inputs q = {FQ_DTYPE_U8, {l->n, l->c, l->h, l->w}, x, l->x_scale, l->x_zero_point,
                      FQ_DTYPE_I8, {l->m, l->c / l->group, l->kh, l->kw}, l->weights,
                      l->w_count, l->w_scale, l->w_zero_point, FQ_DTYPE_U8, l->y_scale,
                      l->y_zero_point, l->bias};
    if (l->nhwc) {
        int64_t dims[4] = {l->n, l->h, l->w, l->c};
        memcpy(q.x_dims, dims, sizeof(dims));
    }
    harness_start(h, &q);
    fq_harness_attr_ints(h, "strides", 2, (const int64_t[]){l->stride, l->stride});
    fq_harness_attr_ints(h, "dilations", 2, (const int64_t[]){l->dilation, l->dilation});
    fq_harness_attr_ints(h, "pads", 4, l->pads);
    fq_harness_attr_ints(h, "kernel_shape", 2, (const int64_t[]){l->kh, l->kw});
    fq_harness_attr_int(h, "group", l->group);
    fq_harness_attr_int(h, "channels_last", l->nhwc ? 1 : 0);
    fq_harness_activation(h, l->act);
}

/* Runs the node of h through prepare and the planned exec into y. */
static void *run_prepared(fq_harness *h, fq_isa cap, int threads, uint8_t *y)
{
    const fq_graph *g = h->graph;
    const fq_node *node = &g->nodes[h->node];
    const fq_op_info *info = fq_op_get(node->op);
    fq_threadpool *pool = NULL;
    assert_int_equal(fq_threadpool_create(threads, &pool, NULL), FQ_OK);
    fq_kernel_config config = {.isa_cap = cap, .pool = pool};
    void *state = NULL;
    size_t ws = 0;
    fq_error err = {0};
    assert_int_equal(info->prepare(g, node, &config, &state, &ws, &err), FQ_OK);
    assert_non_null(state);

    fq_tensor inputs[9];
    for (int i = 0; i < node->n_inputs; i++) {
        const fq_value *v = fq_node_input(g, node, i);
        inputs[i] = (fq_tensor){v->dtype, v->shape, v->data, &v->quant};
    }
    const fq_value *out = fq_node_output(h->graph, node, 0);
    fq_tensor output = {out->dtype, out->shape, y, NULL};
    void *workspace = fq_malloc_aligned(ws > 0 ? ws : 1);
    fq_exec_ctx ctx = {g, node, node->n_inputs, inputs, 1, &output, workspace, ws, &err,
                       state, pool};
    assert_int_equal(info->exec(&ctx), FQ_OK);
    fq_free_aligned(workspace);
    fq_threadpool_free(pool);
    return state;
}

/* Which of the driver's paths a kernel name says it runs: 1x1, im2col, depthwise 3x3. */
static int path_of(const char *name)
{
    return strstr(name, "(1x1)") != NULL ? 0 : strstr(name, "(im2col)") != NULL ? 1 : 2;
}

static void expect_fast_equals_reference(fq_isa cap, unsigned long long seed)
{
    fq_test_seed(seed);
    int paths_seen[3] = {0, 0, 0};
    for (int round = 0; round < ROUNDS; round++) {
        random_layer l;
        layer_random(&l, round % 4 == 0 ? POINTWISE : round % 4 == 1 ? DEPTHWISE_3X3 : ANY_SHAPE);
        fq_harness h;
        layer_start(&h, &l, l.x);
        assert_int_equal(fq_harness_run(&h), FQ_OK);
        size_t bytes = (size_t)fq_shape_numel(&h.outputs[0].shape);
        uint8_t *fast = fq_malloc(bytes);
        assert_non_null(fast);
        for (int threads = 1; threads <= 2; threads++) {
            memset(fast, 0xcd, bytes);
            const fq_op_info *info = fq_op_get(h.graph->nodes[h.node].op);
            void *state = run_prepared(&h, cap, threads, fast);
            paths_seen[path_of(info->kernel_name(state))]++;
            info->release(state);
            assert_memory_equal(fast, h.outputs[0].data, bytes);
        }
        fq_free(fast);
        fq_harness_free(&h);
        layer_free(&l);
    }
    for (int path = 0; path < 3; path++)
        assert_true(paths_seen[path] > 0);
}

static void test_fast_path_equals_reference(void **state)
{
    fq_isa cap = *(const fq_isa *)*state;
    if (!fq_isa_supported(cap)) {
        printf("skipping cap %s: this CPU lacks it\n", fq_isa_name(cap));
        skip();
    }
    expect_fast_equals_reference(cap, 100 + (unsigned long long)cap);
}

/* x of l (NCHW) transposed to NHWC. */
static uint8_t *to_nhwc(const random_layer *l)
{
    uint8_t *t = fq_malloc((size_t)(l->n * l->c * l->h * l->w));
    assert_non_null(t);
    for (int64_t n = 0; n < l->n; n++)
        for (int64_t c = 0; c < l->c; c++)
            for (int64_t i = 0; i < l->h * l->w; i++)
                t[(n * l->h * l->w + i) * l->c + c] = l->x[(n * l->c + c) * l->h * l->w + i];
    return t;
}

static void test_reference_reads_and_writes_nhwc_when_channels_last(void **state)
{
    (void)state;
    fq_test_seed(7);
    for (int round = 0; round < ROUNDS; round++) {
        random_layer l;
        layer_random(&l, round % 2 == 0 ? DEPTHWISE_3X3 : ANY_SHAPE);
        l.nhwc = false;
        fq_harness nchw, nhwc;
        layer_start(&nchw, &l, l.x);
        assert_int_equal(fq_harness_run(&nchw), FQ_OK);
        uint8_t *x_nhwc = to_nhwc(&l);
        l.nhwc = true;
        layer_start(&nhwc, &l, x_nhwc);
        assert_int_equal(fq_harness_run(&nhwc), FQ_OK);

        const fq_shape *ys = &nchw.outputs[0].shape;
        const uint8_t *a = nchw.outputs[0].data, *b = nhwc.outputs[0].data;
        int64_t m = ys->dims[1], plane = ys->dims[2] * ys->dims[3];
        for (int64_t n = 0; n < ys->dims[0]; n++)
            for (int64_t j = 0; j < m; j++)
                for (int64_t i = 0; i < plane; i++)
                    assert_int_equal(a[(n * m + j) * plane + i], b[(n * plane + i) * m + j]);
        fq_free(x_nhwc);
        fq_harness_free(&nchw);
        fq_harness_free(&nhwc);
        layer_free(&l);
    }
}

/* ---- what prepare chooses ---- */

static void start_fixed_layer(fq_harness *h, random_layer *l, int64_t k, bool nhwc)
{
    fq_test_seed(5);
    layer_random(l, ANY_SHAPE);
    l->group = 1;
    l->c = 96; /* kernel rows of 3 x 96 bytes: past the stem path (at most 256), on im2col */
    l->m = 24;
    l->kh = l->kw = k;
    l->h = l->w = 8;
    l->stride = l->dilation = 1;
    memset(l->pads, 0, sizeof(l->pads));
    l->nhwc = nhwc;
    random_quantization(l);
    l->w_count = 1;
    layer_free(l);
    random_data(l);
    layer_start(h, l, l->x);
}

static void test_kernel_name_names_the_gemm_and_im2col(void **state)
{
    (void)state;
    random_layer l;
    fq_harness h;
    start_fixed_layer(&h, &l, 3, true);
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    uint8_t *y = fq_malloc((size_t)fq_shape_numel(&h.outputs[0].shape));
    const fq_op_info *info = fq_op_get(h.graph->nodes[h.node].op);
    void *state_made = run_prepared(&h, FQ_ISA_AUTO, 1, y);
    char expected[96];
    snprintf(expected, sizeof(expected), "%s (im2col)", fq_qs8_gemm_select(FQ_ISA_AUTO)->name);
    assert_string_equal(info->kernel_name(state_made), expected);
    info->release(state_made);
    fq_free(y);
    fq_harness_free(&h);
    layer_free(&l);
}

/* The harness graph of a reference run made runnable by a session: x becomes the graph input,
 * y the graph output. */
static fq_session *session_of(fq_harness *h, int threads)
{
    fq_graph *g = h->graph;
    const fq_node *node = &g->nodes[h->node];
    g->inputs = fq_realloc(g->inputs, sizeof(int));
    assert_non_null(g->inputs);
    g->inputs[0] = node->inputs[0];
    g->n_inputs = 1;
    gb_output(g, node->outputs[0]);
    fq_session_options options = fq_session_options_default();
    options.threads = threads;
    fq_session *session = NULL;
    fq_error err = {0};
    if (fq_session_create(g, &options, &session, &err) != FQ_OK)
        fail_msg("%s", err.message);
    return session;
}

static void test_session_runs_the_fast_path_on_two_threads(void **state)
{
    (void)state;
    random_layer l;
    fq_harness h;
    start_fixed_layer(&h, &l, 3, false);
    assert_int_equal(fq_harness_run(&h), FQ_OK);
    fq_session *session = session_of(&h, 2);
    assert_non_null(strstr(fq_session_kernel_name(session, h.node), "(im2col) nchw"));

    fq_error err = {0};
    size_t x_bytes = (size_t)(l.n * l.c * l.h * l.w);
    assert_int_equal(fq_session_set_input(session, 0, l.x, x_bytes, &err), FQ_OK);
    assert_int_equal(fq_session_run(session, &err), FQ_OK);
    fq_tensor y;
    assert_int_equal(fq_session_output(session, 0, &y, &err), FQ_OK);
    size_t bytes = (size_t)fq_shape_numel(&h.outputs[0].shape);
    assert_int_equal(fq_shape_numel(&y.shape), (int64_t)bytes);
    assert_memory_equal(y.data, h.outputs[0].data, bytes);
    fq_session_free(session);
    fq_harness_free(&h);
    layer_free(&l);
}

static void *prepare_only(fq_harness *h)
{
    assert_int_equal(fq_harness_run(h), FQ_OK);
    const fq_node *node = &h->graph->nodes[h->node];
    fq_kernel_config config = {.isa_cap = FQ_ISA_AUTO, .pool = NULL};
    void *state = (void *)&config;
    size_t ws = 1;
    assert_int_equal(fq_op_get(node->op)->prepare(h->graph, node, &config, &state, &ws, NULL),
                     FQ_OK);
    return state;
}

static void test_prepare_keeps_the_reference_for_weight_zero_points(void **state)
{
    (void)state;
    random_layer l;
    fq_harness h;
    start_fixed_layer(&h, &l, 1, true);
    fq_harness_free(&h);
    l.w_zero_point[3] = 1;
    l.w_count = (int)l.m;
    layer_start(&h, &l, l.x);
    assert_null(prepare_only(&h));
    fq_harness_free(&h);
    layer_free(&l);
}

static void test_prepare_keeps_the_reference_for_runtime_scales(void **state)
{
    (void)state;
    static const uint8_t x[16] = {0};
    static const int8_t w[9] = {1};
    static const float scale = 1.0f;
    int64_t dims[4] = {1, 1, 4, 4};
    fq_harness h;
    fq_harness_init(&h, "QLinearConv", 13);
    fq_harness_input(&h, FQ_DTYPE_U8, 4, dims, x, false);
    fq_harness_input(&h, FQ_DTYPE_F32, 0, NULL, &scale, false);
    add_scalar(&h, FQ_DTYPE_U8, 0);
    fq_harness_input(&h, FQ_DTYPE_I8, 4, (const int64_t[]){1, 1, 3, 3}, w, true);
    fq_harness_input(&h, FQ_DTYPE_F32, 0, NULL, &scale, true);
    add_scalar(&h, FQ_DTYPE_I8, 0);
    fq_harness_input(&h, FQ_DTYPE_F32, 0, NULL, &scale, true);
    add_scalar(&h, FQ_DTYPE_U8, 0);
    assert_null(prepare_only(&h));
    fq_harness_free(&h);
}

static const fq_isa caps[] = {
    FQ_ISA_SCALAR,
#if defined(__x86_64__) || defined(__i386__)
    FQ_ISA_SSE41, FQ_ISA_AVX2, FQ_ISA_AVXVNNI, FQ_ISA_AVX512, FQ_ISA_AVX512VNNI,
    FQ_ISA_AVX512FP16,
#elif defined(__aarch64__) || defined(__arm__)
    FQ_ISA_NEON, FQ_ISA_NEONDOT, FQ_ISA_NEONFP16,
#endif
};
#define N_CAPS (sizeof(caps) / sizeof(caps[0]))

int main(void)
{
    static char names[N_CAPS][64];
    struct CMUnitTest fast[N_CAPS];
    for (size_t i = 0; i < N_CAPS; i++) {
        snprintf(names[i], sizeof(names[i]), "fast_path_equals_reference__%s",
                 fq_isa_name(caps[i]));
        fast[i] = (struct CMUnitTest){names[i], test_fast_path_equals_reference, NULL, NULL,
                                      (void *)&caps[i]};
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reference_computes_a_hand_worked_convolution),
        cmocka_unit_test(test_reference_handles_i8_and_per_channel_zero_points),
        cmocka_unit_test(test_reference_rounds_half_to_even),
        cmocka_unit_test(test_reference_saturates_to_u8),
        cmocka_unit_test(test_reference_saturates_to_i8),
        cmocka_unit_test(test_fused_relu_clamps_at_the_output_zero_point),
        cmocka_unit_test(test_fused_clip_clamps_at_the_quantized_bounds),
        cmocka_unit_test(test_auto_pad_same_upper_pads_the_end),
        cmocka_unit_test(test_auto_pad_same_lower_pads_the_start),
        cmocka_unit_test(test_auto_pad_valid_does_not_pad),
        cmocka_unit_test(test_infer_refuses_f32_input_naming_the_node),
        cmocka_unit_test(test_infer_refuses_a_weight_scale_count_other_than_1_or_m),
        cmocka_unit_test(test_infer_refuses_a_fused_leaky_relu),
        cmocka_unit_test(test_infer_refuses_groups_that_do_not_fit),
        cmocka_unit_test(test_infer_gives_nhwc_shapes_when_channels_last),
        cmocka_unit_test(test_reference_reads_and_writes_nhwc_when_channels_last),
        cmocka_unit_test(test_kernel_name_names_the_gemm_and_im2col),
        cmocka_unit_test(test_session_runs_the_fast_path_on_two_threads),
        cmocka_unit_test(test_prepare_keeps_the_reference_for_weight_zero_points),
        cmocka_unit_test(test_prepare_keeps_the_reference_for_runtime_scales),
    };
    int failed = cmocka_run_group_tests_name("qlinearconv", tests, NULL, NULL);
    return failed + _cmocka_run_group_tests("qlinearconv_fast_path", fast, N_CAPS, NULL, NULL);
}
