#ifndef PHOTOVERSE_CKERNELS_H
#define PHOTOVERSE_CKERNELS_H

/* Small hot loops that Swift does not vectorise well (exp in particular).
 * Each picks an AVX2+FMA path at run time where the CPU has it, else a portable loop. */

/* In-place softmax of one row of n floats (max-subtracted).
 * A row whose maximum is -inf becomes all zeros; entries equal to -inf become exactly 0. */
void pv_softmax_row(float *row, long n);

/* n IEEE half-precision values (bit patterns) widened to float, exactly: F16C where the CPU
 * has it. The _portable entry is the fallback itself (tests compare the two). */
void pv_widen_f16(const unsigned short *src, float *dst, long n);
void pv_widen_f16_portable(const unsigned short *src, float *dst, long n);

/* Winograd F(4x4, 3x3) transforms for stride-1 3x3 convolutions (see winograd.c). */
void pv_wino43_weights(const float *w, long first, long count, long stride, float *U);
void pv_wino43_input(const float *plane, long H, long W, long pad, long tilesX,
                     long first, long count, float *V, long strideK,
                     float scale, float shift, int mode);
void pv_wino43_output(const float *M, long strideK, long first, long count, long tilesX,
                      float bias, float *plane, long outH, long outW);

/* Large allocations in their own mappings, returned to the system when freed (allocator.c);
 * called once at the start of the program. */
void pv_configure_allocator(void);
long pv_mapped_allocation_bytes(void);

#endif
