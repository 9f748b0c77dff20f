/* Integer Clip: see tensor_clip_ref.h. */
#include "ref/tensor_clip_ref.h"

#define DEFINE_CLIP(name, type)                                                                 \
    static void name(const type *x, type *y, int64_t n, int64_t lo, int64_t hi)                 \
    {                                                                                           \
        for (int64_t i = 0; i < n; i++) {                                                       \
            int64_t v = x[i] < lo ? lo : x[i];                                                  \
            y[i] = (type)(v > hi ? hi : v);                                                     \
        }                                                                                       \
    }

DEFINE_CLIP(clip_i8, int8_t)
DEFINE_CLIP(clip_u8, uint8_t)
DEFINE_CLIP(clip_i32, int32_t)
DEFINE_CLIP(clip_i64, int64_t)

int fq_int_clip_ref(fq_dtype dtype, const void *x, void *y, int64_t n, int64_t lo, int64_t hi)
{
    switch (dtype) {
    case FQ_DTYPE_I8: clip_i8(x, y, n, lo, hi); return 1;
    case FQ_DTYPE_U8: clip_u8(x, y, n, lo, hi); return 1;
    case FQ_DTYPE_I32: clip_i32(x, y, n, lo, hi); return 1;
    case FQ_DTYPE_I64: clip_i64(x, y, n, lo, hi); return 1;
    default: return 0;
    }
}
