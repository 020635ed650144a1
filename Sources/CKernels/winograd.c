#include "CKernels.h"

#include <math.h>

/* The fused GroupNorm(+SiLU) input must round exactly as Swift's separate pass does:
 * x·scale + shift as a multiply then an add, never one FMA. */
#pragma STDC FP_CONTRACT OFF

/* Winograd F(4x4, 3x3) transforms (Lavin & Gray 2016): a 3x3 convolution of 6x6 input tiles
 * becomes 36 element-wise products (done as 36 GEMMs over channels by the caller) instead of
 * 144 multiply-adds per 4x4 output tile. Index k = 6·row + column of the 6x6 transformed tile. */

/* U[k·stride + oi] = (G g G^T)[k] for the 3x3 kernels g = w[oi] with oi in [first, first + count)
 * (oi = o·cin + i; stride = cout·cin). */
void pv_wino43_weights(const float *w, long first, long count, long stride, float *U) {
    for (long oi = first; oi < first + count; oi++) {
        const float *g = w + oi * 9;
        float t[6][3];  /* G g */
        for (int c = 0; c < 3; c++) {
            float g0 = g[c], g1 = g[3 + c], g2 = g[6 + c];
            t[0][c] = g0 / 4.0f;
            t[1][c] = -(g0 + g1 + g2) / 6.0f;
            t[2][c] = -(g0 - g1 + g2) / 6.0f;
            t[3][c] = g0 / 24.0f + g1 / 12.0f + g2 / 6.0f;
            t[4][c] = g0 / 24.0f - g1 / 12.0f + g2 / 6.0f;
            t[5][c] = g2;
        }
        for (int r = 0; r < 6; r++) {
            float g0 = t[r][0], g1 = t[r][1], g2 = t[r][2];
            float *u = U + (long)(6 * r) * stride + oi;
            u[0 * stride] = g0 / 4.0f;
            u[1 * stride] = -(g0 + g1 + g2) / 6.0f;
            u[2 * stride] = -(g0 - g1 + g2) / 6.0f;
            u[3 * stride] = g0 / 24.0f + g1 / 12.0f + g2 / 6.0f;
            u[4 * stride] = g0 / 24.0f - g1 / 12.0f + g2 / 6.0f;
            u[5 * stride] = g2;
        }
    }
}

/* B^T applied to 6 values (one column or row of a tile). */
static inline void input_1d(const float d[6], float out[6]) {
    out[0] = 4.0f * d[0] - 5.0f * d[2] + d[4];
    out[1] = -4.0f * d[1] - 4.0f * d[2] + d[3] + d[4];
    out[2] = 4.0f * d[1] - 4.0f * d[2] - d[3] + d[4];
    out[3] = -2.0f * d[1] - d[2] + 2.0f * d[3] + d[4];
    out[4] = 2.0f * d[1] - d[2] - 2.0f * d[3] + d[4];
    out[5] = 4.0f * d[1] - 5.0f * d[3] + d[5];
}

/* Input transform of one H x W plane (zero padding `pad`), for tiles [first, first + count) of
 * the plane's tilesY x tilesX grid (tile t covers input rows 4·ty − pad ... +5, columns alike):
 * V[k·strideK + j] = (B^T d B)[k] of tile first + j. `mode` 1 reads x·scale + shift (a
 * GroupNorm folded in), 2 also applies SiLU; 0 reads the plane as it is. Adding 4 reads an
 * (H/2) x (W/2) plane upsampled 2x by nearest neighbour (H and W even) without making it. */
static inline float prepared(float x, float scale, float shift, int mode) {
    if (mode == 0) return x;
    float v = x * scale + shift;
    return mode == 2 ? v / (1.0f + expf(-v)) : v;
}

void pv_wino43_input(const float *plane, long H, long W, long pad, long tilesX,
                     long first, long count, float *V, long strideK,
                     float scale, float shift, int mode) {
    const int norm = mode & 3, upsampled = (mode & 4) != 0;
    const long sourceW = upsampled ? W / 2 : W;
    for (long j = 0; j < count; j++) {
        long t = first + j, ty = t / tilesX, tx = t % tilesX;
        long y0 = 4 * ty - pad, x0 = 4 * tx - pad;
        float d[6][6];
        for (int r = 0; r < 6; r++) {
            long y = y0 + r;
            for (int c = 0; c < 6; c++) {
                long x = x0 + c;
                /* Padding is zero after the normalisation, as in the unfused layers. */
                if (y < 0 || y >= H || x < 0 || x >= W) { d[r][c] = 0.0f; continue; }
                float value = upsampled ? plane[(y >> 1) * sourceW + (x >> 1)] : plane[y * W + x];
                d[r][c] = prepared(value, scale, shift, norm);
            }
        }
        float rows[6][6];  /* B^T d, column by column */
        for (int c = 0; c < 6; c++) {
            float column[6] = {d[0][c], d[1][c], d[2][c], d[3][c], d[4][c], d[5][c]}, out[6];
            input_1d(column, out);
            for (int r = 0; r < 6; r++) rows[r][c] = out[r];
        }
        for (int r = 0; r < 6; r++) {
            float out[6];
            input_1d(rows[r], out);
            for (int c = 0; c < 6; c++) V[(6 * r + c) * strideK + j] = out[c];
        }
    }
}

/* A^T applied to 6 values. */
static inline void output_1d(const float m[6], float out[4]) {
    out[0] = m[0] + m[1] + m[2] + m[3] + m[4];
    out[1] = m[1] - m[2] + 2.0f * (m[3] - m[4]);
    out[2] = m[1] + m[2] + 4.0f * (m[3] + m[4]);
    out[3] = m[1] - m[2] + 8.0f * (m[3] - m[4]) + m[5];
}

/* Output transform for one output channel: tiles [first, first + count) of the outH x outW
 * plane, M[k·strideK + j] the 36 products of tile first + j; writes A^T M A (+ bias) to the
 * tile's 4x4 block, clipped at the plane's edges. */
void pv_wino43_output(const float *M, long strideK, long first, long count, long tilesX,
                      float bias, float *plane, long outH, long outW) {
    for (long j = 0; j < count; j++) {
        long t = first + j, ty = t / tilesX, tx = t % tilesX;
        float m[6][6];
        for (int k = 0; k < 36; k++) m[k / 6][k % 6] = M[k * strideK + j];
        float rows[4][6];  /* A^T m, column by column */
        for (int c = 0; c < 6; c++) {
            float column[6] = {m[0][c], m[1][c], m[2][c], m[3][c], m[4][c], m[5][c]}, out[4];
            output_1d(column, out);
            for (int r = 0; r < 4; r++) rows[r][c] = out[r];
        }
        for (int r = 0; r < 4; r++) {
            long y = 4 * ty + r;
            if (y >= outH) break;
            float out[4];
            output_1d(rows[r], out);
            for (int c = 0; c < 4; c++) {
                long x = 4 * tx + c;
                if (x < outW) plane[y * outW + x] = out[c] + bias;
            }
        }
    }
}
