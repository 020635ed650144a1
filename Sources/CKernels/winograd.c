#include "CKernels.h"

#include <math.h>

/* The fused GroupNorm(+SiLU) input must round exactly as Swift's separate pass does:
 * x·scale + shift as a multiply then an add, never one FMA. */
#pragma STDC FP_CONTRACT OFF

/* Winograd F(4x4, 3x3) transforms (Lavin & Gray 2016): a 3x3 convolution of 6x6 input tiles
 * becomes 36 element-wise products (done as 36 GEMMs over channels by the caller) instead of
 * 144 multiply-adds per 4x4 output tile. Index k = 6·row + column of the 6x6 transformed tile. */

/* Each kernel is compiled for AVX2 and for the baseline, the loader picks (the loops over
 * lanes and tiles vectorise; FP_CONTRACT stays off, so both round alike). */
#if defined(__x86_64__) && defined(__clang__)
#define PV_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define PV_CLONES
#endif

/* Lanes of kernels transformed together, and most tiles of a row handled in one pass. */
enum { WEIGHT_LANES = 8, ROW_TILES = 64, ROW_SPAN = 4 * ROW_TILES + 2 };

/* U[k·stride + oi] = (G g G^T)[k] for the 3x3 kernels g = w[oi] with oi in [first, first + count)
 * (oi = o·cin + i; stride = cout·cin). Eight kernels at a time, so that each of the 36 rows of U
 * is written eight floats at once (one float per row per kernel made the stores the cost). */
PV_CLONES
void pv_wino43_weights(const float *w, long first, long count, long stride, float *U) {
    for (long base = first; base < first + count; base += WEIGHT_LANES) {
        const int lanes = first + count - base < WEIGHT_LANES ? (int)(first + count - base) : WEIGHT_LANES;
        float g[9][WEIGHT_LANES] = {{0}};
        for (int l = 0; l < lanes; l++)
            for (int e = 0; e < 9; e++) g[e][l] = w[(base + l) * 9 + e];
        float t[6][3][WEIGHT_LANES];  /* G g */
        for (int c = 0; c < 3; c++) {
            for (int l = 0; l < WEIGHT_LANES; l++) {
                float g0 = g[c][l], g1 = g[3 + c][l], g2 = g[6 + c][l];
                t[0][c][l] = g0 / 4.0f;
                t[1][c][l] = -(g0 + g1 + g2) / 6.0f;
                t[2][c][l] = -(g0 - g1 + g2) / 6.0f;
                t[3][c][l] = g0 / 24.0f + g1 / 12.0f + g2 / 6.0f;
                t[4][c][l] = g0 / 24.0f - g1 / 12.0f + g2 / 6.0f;
                t[5][c][l] = g2;
            }
        }
        for (int r = 0; r < 6; r++) {
            float u[6][WEIGHT_LANES];
            for (int l = 0; l < WEIGHT_LANES; l++) {
                float g0 = t[r][0][l], g1 = t[r][1][l], g2 = t[r][2][l];
                u[0][l] = g0 / 4.0f;
                u[1][l] = -(g0 + g1 + g2) / 6.0f;
                u[2][l] = -(g0 - g1 + g2) / 6.0f;
                u[3][l] = g0 / 24.0f + g1 / 12.0f + g2 / 6.0f;
                u[4][l] = g0 / 24.0f - g1 / 12.0f + g2 / 6.0f;
                u[5][l] = g2;
            }
            for (int c = 0; c < 6; c++) {
                float *row = U + (long)(6 * r + c) * stride + base;
                for (int l = 0; l < lanes; l++) row[l] = u[c][l];
            }
        }
    }
}

/* B^T applied to 6 values (one column or row of a tile). */
#define INPUT_1D(d0, d1, d2, d3, d4, d5, o0, o1, o2, o3, o4, o5) do { \
    o0 = 4.0f * (d0) - 5.0f * (d2) + (d4);                          \
    o1 = -4.0f * (d1) - 4.0f * (d2) + (d3) + (d4);                  \
    o2 = 4.0f * (d1) - 4.0f * (d2) - (d3) + (d4);                   \
    o3 = -2.0f * (d1) - (d2) + 2.0f * (d3) + (d4);                  \
    o4 = 2.0f * (d1) - (d2) - 2.0f * (d3) + (d4);                   \
    o5 = 4.0f * (d1) - 5.0f * (d3) + (d5);                          \
} while (0)

/* Input transform of one H x W plane (zero padding `pad`), for tiles [first, first + count) of
 * the plane's tilesY x tilesX grid (tile t covers input rows 4·ty − pad ... +5, columns alike):
 * V[k·strideK + j] = (B^T d B)[k] of tile first + j. `mode` 1 reads x·scale + shift (a
 * GroupNorm folded in), 2 also applies SiLU; 0 reads the plane as it is. Adding 4 reads an
 * (H/2) x (W/2) plane upsampled 2x by nearest neighbour (H and W even) without making it.
 * The tiles of one tile row are done together: their six input rows are read once, the
 * vertical transform runs along whole rows, then the horizontal one per tile. The same float
 * operations in the same order as a tile at a time (B^T down the columns, then along the rows). */
static inline float prepared(float x, float scale, float shift, int mode) {
    if (mode == 0) return x;
    float v = x * scale + shift;
    return mode == 2 ? v / (1.0f + expf(-v)) : v;
}

/* Columns [x0, x0 + span) of input row y, prepared, zero outside the plane. */
static inline void read_row(const float *plane, long H, long W, long y, long x0, long span,
                            float scale, float shift, int norm, int upsampled, float *row) {
    if (y < 0 || y >= H) {
        for (long x = 0; x < span; x++) row[x] = 0.0f;
        return;
    }
    long lo = x0 < 0 ? -x0 : 0, hi = W - x0 < span ? W - x0 : span;
    if (hi < lo) hi = lo;
    for (long x = 0; x < lo; x++) row[x] = 0.0f;
    for (long x = hi; x < span; x++) row[x] = 0.0f;
    if (upsampled) {
        const float *source = plane + (y >> 1) * (W / 2);
        for (long x = lo; x < hi; x++) row[x] = prepared(source[(x0 + x) >> 1], scale, shift, norm);
    } else {
        const float *source = plane + y * W + x0;
        if (norm == 0) {
            for (long x = lo; x < hi; x++) row[x] = source[x];
        } else if (norm == 1) {
            for (long x = lo; x < hi; x++) row[x] = source[x] * scale + shift;
        } else {
            for (long x = lo; x < hi; x++) row[x] = prepared(source[x], scale, shift, 2);
        }
    }
}

PV_CLONES
void pv_wino43_input(const float *plane, long H, long W, long pad, long tilesX,
                     long first, long count, float *V, long strideK,
                     float scale, float shift, int mode) {
    const int norm = mode & 3, upsampled = (mode & 4) != 0;
    float rows[6][ROW_SPAN], vertical[6][ROW_SPAN];
    for (long j = 0; j < count;) {
        long t = first + j, ty = t / tilesX, tx = t % tilesX;
        long n = tilesX - tx;
        if (n > count - j) n = count - j;
        if (n > ROW_TILES) n = ROW_TILES;
        long x0 = 4 * tx - pad, span = 4 * n + 2;
        for (int r = 0; r < 6; r++)
            read_row(plane, H, W, 4 * ty - pad + r, x0, span, scale, shift, norm, upsampled, rows[r]);
        for (long x = 0; x < span; x++) {
            INPUT_1D(rows[0][x], rows[1][x], rows[2][x], rows[3][x], rows[4][x], rows[5][x],
                     vertical[0][x], vertical[1][x], vertical[2][x], vertical[3][x], vertical[4][x], vertical[5][x]);
        }
        for (int r = 0; r < 6; r++) {
            float *out = V + (long)(6 * r) * strideK + j;
            const float *d = vertical[r];
            for (long i = 0; i < n; i++) {
                const float *e = d + 4 * i;
                INPUT_1D(e[0], e[1], e[2], e[3], e[4], e[5],
                         out[i], out[strideK + i], out[2 * strideK + i],
                         out[3 * strideK + i], out[4 * strideK + i], out[5 * strideK + i]);
            }
        }
        j += n;
    }
}

/* A^T applied to 6 values. */
#define OUTPUT_1D(m0, m1, m2, m3, m4, m5, o0, o1, o2, o3) do { \
    o0 = (m0) + (m1) + (m2) + (m3) + (m4);                     \
    o1 = (m1) - (m2) + 2.0f * ((m3) - (m4));                   \
    o2 = (m1) + (m2) + 4.0f * ((m3) + (m4));                   \
    o3 = (m1) - (m2) + 8.0f * ((m3) - (m4)) + (m5);            \
} while (0)

/* Output transform for one output channel: tiles [first, first + count) of the outH x outW
 * plane, M[k·strideK + j] the 36 products of tile first + j; writes A^T M A (+ bias) to the
 * tile's 4x4 block, clipped at the plane's edges. A tile row's tiles together, vectorised
 * across tiles; the same operations in the same order as a tile at a time. */
PV_CLONES
void pv_wino43_output(const float *M, long strideK, long first, long count, long tilesX,
                      float bias, float *plane, long outH, long outW) {
    float columns[4][6][ROW_TILES];  /* A^T m, column by column, for each tile */
    float line[4 * ROW_TILES];
    for (long j = 0; j < count;) {
        long t = first + j, ty = t / tilesX, tx = t % tilesX;
        long n = tilesX - tx;
        if (n > count - j) n = count - j;
        if (n > ROW_TILES) n = ROW_TILES;
        for (int c = 0; c < 6; c++) {
            const float *m0 = M + (long)c * strideK + j, *m1 = m0 + 6 * strideK, *m2 = m1 + 6 * strideK;
            const float *m3 = m2 + 6 * strideK, *m4 = m3 + 6 * strideK, *m5 = m4 + 6 * strideK;
            for (long i = 0; i < n; i++) {
                OUTPUT_1D(m0[i], m1[i], m2[i], m3[i], m4[i], m5[i],
                          columns[0][c][i], columns[1][c][i], columns[2][c][i], columns[3][c][i]);
            }
        }
        long width = outW - 4 * tx < 4 * n ? outW - 4 * tx : 4 * n;
        for (int r = 0; r < 4; r++) {
            long y = 4 * ty + r;
            if (y >= outH) break;
            const float *k0 = columns[r][0], *k1 = columns[r][1], *k2 = columns[r][2];
            const float *k3 = columns[r][3], *k4 = columns[r][4], *k5 = columns[r][5];
            for (long i = 0; i < n; i++) {
                float o0, o1, o2, o3;
                OUTPUT_1D(k0[i], k1[i], k2[i], k3[i], k4[i], k5[i], o0, o1, o2, o3);
                line[4 * i] = o0 + bias;
                line[4 * i + 1] = o1 + bias;
                line[4 * i + 2] = o2 + bias;
                line[4 * i + 3] = o3 + bias;
            }
            float *target = plane + y * outW + 4 * tx;
            for (long x = 0; x < width; x++) target[x] = line[x];
        }
        j += n;
    }
}
