/* cpu/isa.c — run-time SIMD detection (cpuid + xgetbv through GCC/Clang builtins). */
#include "isa.h"

#include <string.h>

static const char *const ISA_NAMES[] = {"auto", "scalar", "avx2", "avx512"};

const char *vi_isa_name(vi_isa isa)
{
    return (isa >= VI_ISA_AUTO && isa <= VI_ISA_AVX512) ? ISA_NAMES[isa] : "unknown";
}

int vi_isa_parse(const char *name, vi_isa *out)
{
    for (int i = 0; i <= VI_ISA_AVX512; i++)
        if (name && strcmp(name, ISA_NAMES[i]) == 0) {
            *out = (vi_isa)i;
            return 0;
        }
    return -1;
}

int vi_isa_supported(vi_isa isa)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    switch (isa) {
    case VI_ISA_AUTO:
    case VI_ISA_SCALAR:
        return 1;
    case VI_ISA_AVX2:
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case VI_ISA_AVX512:
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
               __builtin_cpu_supports("fma");
    }
    return 0;
#else
    return isa == VI_ISA_AUTO || isa == VI_ISA_SCALAR;
#endif
}

vi_isa vi_isa_detect(void)
{
    if (vi_isa_supported(VI_ISA_AVX512))
        return VI_ISA_AVX512;
    if (vi_isa_supported(VI_ISA_AVX2))
        return VI_ISA_AVX2;
    return VI_ISA_SCALAR;
}
