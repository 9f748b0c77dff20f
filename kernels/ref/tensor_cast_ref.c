/* Dtype conversions: see tensor_cast_ref.h. */
#include <math.h>
#include <string.h>

#include "ref/tensor_cast_ref.h"

uint16_t fq_f16_from_f32(float value)
{
    uint32_t bits;
    memcpy(&bits, &value, sizeof(bits));
    uint16_t sign = (uint16_t)((bits >> 16) & 0x8000u);
    uint32_t magnitude = bits & 0x7fffffffu;

    if (magnitude > 0x7f800000u) /* NaN: keep it quiet and keep the top payload bits */
        return (uint16_t)(sign | 0x7e00u | ((magnitude >> 13) & 0x3ffu));
    if (magnitude >= 0x477ff000u) /* 65520 and above round to infinity */
        return (uint16_t)(sign | 0x7c00u);
    if (magnitude < 0x38800000u) { /* below 2^-14: an f16 subnormal, in units of 2^-24 */
        float scaled = fabsf(value) * 16777216.0f;
        return (uint16_t)(sign | (uint16_t)fq_round_half_even(scaled));
    }

    uint32_t rebased = magnitude - 0x38000000u; /* exponent bias 127 -> 15 */
    uint32_t half = rebased >> 13;
    uint32_t rest = rebased & 0x1fffu;
    if (rest > 0x1000u || (rest == 0x1000u && (half & 1u)))
        half++; /* a carry into the exponent is the correct rounding */
    return (uint16_t)(sign | half);
}

float fq_f32_from_f16(uint16_t bits)
{
    uint32_t sign = (uint32_t)(bits & 0x8000u) << 16;
    uint32_t exponent = (bits >> 10) & 0x1fu;
    uint32_t mantissa = bits & 0x3ffu;
    uint32_t out;
    if (exponent == 0) {
        float magnitude = (float)mantissa * 5.9604644775390625e-8f; /* 2^-24 */
        return sign ? -magnitude : magnitude;
    }
    if (exponent == 31)
        out = sign | 0x7f800000u | (mantissa << 13);
    else
        out = sign | ((exponent + 112u) << 23) | (mantissa << 13);
    float value;
    memcpy(&value, &out, sizeof(value));
    return value;
}

float fq_round_half_even(float value)
{
    float floor_value = floorf(value);
    float fraction = value - floor_value;
    if (fraction > 0.5f || (fraction == 0.5f && fmodf(floor_value, 2.0f) != 0.0f))
        return floor_value + 1.0f;
    return floor_value;
}

static int is_float(fq_dtype dtype)
{
    return dtype == FQ_DTYPE_F32 || dtype == FQ_DTYPE_F16;
}

static float load_float(fq_dtype dtype, const void *in, int64_t i)
{
    if (dtype == FQ_DTYPE_F16)
        return fq_f32_from_f16(((const uint16_t *)in)[i]);
    return ((const float *)in)[i];
}

static int64_t load_int(fq_dtype dtype, const void *in, int64_t i)
{
    switch (dtype) {
    case FQ_DTYPE_I8: return ((const int8_t *)in)[i];
    case FQ_DTYPE_U8: return ((const uint8_t *)in)[i];
    case FQ_DTYPE_BOOL: return ((const uint8_t *)in)[i] != 0;
    case FQ_DTYPE_I32: return ((const int32_t *)in)[i];
    default: return ((const int64_t *)in)[i];
    }
}

static void store_float(fq_dtype dtype, void *out, int64_t i, float value)
{
    if (dtype == FQ_DTYPE_F16)
        ((uint16_t *)out)[i] = fq_f16_from_f32(value);
    else
        ((float *)out)[i] = value;
}

/* Integer stores wrap around (the conversion to an unsigned type is defined modulo 2^N). */
static void store_int(fq_dtype dtype, void *out, int64_t i, int64_t value)
{
    switch (dtype) {
    case FQ_DTYPE_I8: ((int8_t *)out)[i] = (int8_t)(uint8_t)value; break;
    case FQ_DTYPE_U8: ((uint8_t *)out)[i] = (uint8_t)value; break;
    case FQ_DTYPE_BOOL: ((uint8_t *)out)[i] = value != 0; break;
    case FQ_DTYPE_I32: ((int32_t *)out)[i] = (int32_t)(uint32_t)value; break;
    default: ((int64_t *)out)[i] = value; break;
    }
}

/* Truncation toward zero with saturation to [lo, hi] (NaN -> 0). */
static int64_t float_to_int(float value, float lo, float hi_exclusive, int64_t lo_int,
                            int64_t hi_int)
{
    if (isnan(value))
        return 0;
    if (value < lo)
        return lo_int;
    if (value >= hi_exclusive)
        return hi_int;
    return (int64_t)value;
}

static int64_t float_to_target(fq_dtype to, float value)
{
    switch (to) {
    case FQ_DTYPE_I8: return float_to_int(value, -128.0f, 128.0f, INT8_MIN, INT8_MAX);
    case FQ_DTYPE_U8: return float_to_int(value, 0.0f, 256.0f, 0, UINT8_MAX);
    case FQ_DTYPE_I32:
        return float_to_int(value, -2147483648.0f, 2147483648.0f, INT32_MIN, INT32_MAX);
    default:
        return float_to_int(value, -9223372036854775808.0f, 9223372036854775808.0f, INT64_MIN,
                            INT64_MAX);
    }
}

static void cast_element(fq_dtype from, const void *in, fq_dtype to, void *out, int64_t i)
{
    if (is_float(from)) {
        float value = load_float(from, in, i);
        if (is_float(to))
            store_float(to, out, i, value);
        else if (to == FQ_DTYPE_BOOL)
            ((uint8_t *)out)[i] = value != 0.0f;
        else
            store_int(to, out, i, float_to_target(to, value));
        return;
    }
    int64_t value = load_int(from, in, i);
    if (is_float(to))
        store_float(to, out, i, (float)value);
    else
        store_int(to, out, i, value);
}

int fq_cast_ref(fq_dtype from, const void *in, fq_dtype to, void *out, int64_t n)
{
    if (fq_dtype_size(from) == 0 || fq_dtype_size(to) == 0)
        return 0;
    if (from == to) {
        memmove(out, in, (size_t)n * fq_dtype_size(from));
        return 1;
    }
    for (int64_t i = 0; i < n; i++)
        cast_element(from, in, to, out, i);
    return 1;
}
