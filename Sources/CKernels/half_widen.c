#include "CKernels.h"

#include <stdint.h>
#include <string.h>

/* IEEE binary16 -> binary32, exact (the same rule as Formats' HalfPrecision). */
static inline float widen_one(uint16_t bits) {
    uint32_t sign = (uint32_t)(bits & 0x8000u) << 16;
    uint32_t exponent = (bits >> 10) & 0x1Fu;
    uint32_t mantissa = bits & 0x3FFu;
    uint32_t out;
    if (exponent == 0x1Fu) {
        out = sign | 0x7F800000u | (mantissa << 13);
    } else if (exponent == 0) {
        float magnitude = (float)mantissa * 0x1p-24f;  /* zero or subnormal, exact */
        memcpy(&out, &magnitude, 4);
        out |= sign;
    } else {
        out = sign | ((exponent + 112u) << 23) | (mantissa << 13);
    }
    float value;
    memcpy(&value, &out, 4);
    return value;
}

static void widen_portable(const uint16_t *src, float *dst, long n) {
    for (long i = 0; i < n; i++) dst[i] = widen_one(src[i]);
}

#if defined(__x86_64__)
#include <immintrin.h>

/* F16C converts 8 halves per instruction, exactly (a signalling NaN comes back quiet,
 * which weights never hold). */
__attribute__((target("avx,f16c")))
static void widen_f16c(const uint16_t *src, float *dst, long n) {
    long i = 0;
    for (; i + 32 <= n; i += 32) {
        __m128i a = _mm_loadu_si128((const __m128i *)(src + i));
        __m128i b = _mm_loadu_si128((const __m128i *)(src + i + 8));
        __m128i c = _mm_loadu_si128((const __m128i *)(src + i + 16));
        __m128i d = _mm_loadu_si128((const __m128i *)(src + i + 24));
        _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(a));
        _mm256_storeu_ps(dst + i + 8, _mm256_cvtph_ps(b));
        _mm256_storeu_ps(dst + i + 16, _mm256_cvtph_ps(c));
        _mm256_storeu_ps(dst + i + 24, _mm256_cvtph_ps(d));
    }
    for (; i + 8 <= n; i += 8) {
        _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(src + i))));
    }
    widen_portable(src + i, dst + i, n - i);
}
#endif

void pv_widen_f16(const unsigned short *src, float *dst, long n) {
#if defined(__x86_64__)
    static int has_f16c = -1;
    if (has_f16c < 0) has_f16c = __builtin_cpu_supports("avx") && __builtin_cpu_supports("f16c");
    if (has_f16c) { widen_f16c(src, dst, n); return; }
#endif
    widen_portable(src, dst, n);
}

void pv_widen_f16_portable(const unsigned short *src, float *dst, long n) {
    widen_portable(src, dst, n);
}
