#include "CKernels.h"

#include <math.h>

#if defined(__x86_64__)
#include <immintrin.h>

/* exp(x) for x <= 0 (softmax inputs after max subtraction), 8 lanes.
 * Range reduction x = n·ln2 + r, |r| <= ln2/2, then a degree-6 polynomial for e^r
 * (relative error about 2e-7, like expf) and 2^n built in the exponent bits.
 * Inputs below -87.3 (where e^x leaves the normal range) give 0. */
__attribute__((target("avx2,fma")))
static inline __m256 exp_nonpositive_avx2(__m256 x) {
    const __m256 lower = _mm256_set1_ps(-87.3f);
    __m256 underflow = _mm256_cmp_ps(x, lower, _CMP_LT_OQ);
    x = _mm256_max_ps(x, lower);
    __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                               _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
    __m256 p = _mm256_set1_ps(1.0f / 720.0f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 120.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 24.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 6.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0.5f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    __m256i bits = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    __m256 result = _mm256_mul_ps(p, _mm256_castsi256_ps(bits));
    return _mm256_andnot_ps(underflow, result);
}

__attribute__((target("avx2,fma")))
static float horizontal_max(__m256 v) {
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_shuffle_ps(m, m, 1));
    return _mm_cvtss_f32(m);
}

__attribute__((target("avx2,fma")))
static float horizontal_sum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
    return _mm_cvtss_f32(s);
}

__attribute__((target("avx2,fma")))
static void softmax_row_avx2(float *row, long n) {
    long i = 0;
    __m256 vmax = _mm256_set1_ps(-INFINITY);
    for (; i + 8 <= n; i += 8) vmax = _mm256_max_ps(vmax, _mm256_loadu_ps(row + i));
    float maximum = horizontal_max(vmax);
    for (; i < n; i++) if (row[i] > maximum) maximum = row[i];
    if (maximum == -INFINITY) {
        for (i = 0; i < n; i++) row[i] = 0;
        return;
    }
    __m256 vshift = _mm256_set1_ps(maximum);
    __m256 vsum = _mm256_setzero_ps();
    for (i = 0; i + 8 <= n; i += 8) {
        __m256 e = exp_nonpositive_avx2(_mm256_sub_ps(_mm256_loadu_ps(row + i), vshift));
        _mm256_storeu_ps(row + i, e);
        vsum = _mm256_add_ps(vsum, e);
    }
    float sum = horizontal_sum(vsum);
    for (; i < n; i++) {
        float e = expf(row[i] - maximum);
        row[i] = e;
        sum += e;
    }
    __m256 vinv = _mm256_set1_ps(1.0f / sum);
    for (i = 0; i + 8 <= n; i += 8) _mm256_storeu_ps(row + i, _mm256_mul_ps(_mm256_loadu_ps(row + i), vinv));
    float inv = 1.0f / sum;
    for (; i < n; i++) row[i] *= inv;
}
#endif

static void softmax_row_portable(float *row, long n) {
    float maximum = -INFINITY;
    for (long i = 0; i < n; i++) if (row[i] > maximum) maximum = row[i];
    if (maximum == -INFINITY) {
        for (long i = 0; i < n; i++) row[i] = 0;
        return;
    }
    float sum = 0;
    for (long i = 0; i < n; i++) {
        float e = expf(row[i] - maximum);
        row[i] = e;
        sum += e;
    }
    float inv = 1.0f / sum;
    for (long i = 0; i < n; i++) row[i] *= inv;
}

void pv_softmax_row(float *row, long n) {
#if defined(__x86_64__)
    static int has_avx2 = -1;
    if (has_avx2 < 0) has_avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    if (has_avx2) {
        softmax_row_avx2(row, n);
        return;
    }
#endif
    softmax_row_portable(row, n);
}
