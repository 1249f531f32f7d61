/* cpu/isa.h — which SIMD path the CPU kernels use: detected at run time,
 * forcible by flag (--isa). Every path produces the same bits as scalar. */
#ifndef VI_ISA_H
#define VI_ISA_H

typedef enum {
    VI_ISA_AUTO = 0,
    VI_ISA_SCALAR,
    VI_ISA_AVX2,  /* AVX2 + FMA */
    VI_ISA_AVX512 /* AVX-512F (+VL) */
} vi_isa;

/* "auto", "scalar", "avx2", "avx512". */
const char *vi_isa_name(vi_isa isa);
/* Parses a name; returns -1 if unknown. */
int vi_isa_parse(const char *name, vi_isa *out);
/* The best path this CPU (and OS) supports. */
vi_isa vi_isa_detect(void);
/* 1 if this CPU can run the path. */
int vi_isa_supported(vi_isa isa);

#endif
