/* Choosing the kernel set at run time (kernels.h): compiled for baseline x86-64 like everything
 * but kernels_avx2.c, so the CPU check runs on any CPU. */
#include "kernels.h"
#include <stdlib.h>
#include <string.h>
#include "error.h"

int kernels_avx2_usable(void)
{
#if defined(__wasm__)
    return 0;
#elif (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
    if (!kernels_avx2.name)
        return 0;
    /* libgcc / compiler-rt read CPUID once; "avx2" and "fma" are only reported when the OS also
       saves the ymm registers (XCR0). __builtin_cpu_init: in case we run before constructors. */
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
    return 0;
#endif
}

stele_status kernels_select(const kernels **out, stele_error *err)
{
#if defined(__wasm__)
    (void)err;
    *out = &kernels_simd128;
    return STELE_OK;
#else
    *out = NULL;
    const char *want = getenv("STELE_KERNELS");
    int avx2 = kernels_avx2_usable();
    if (!want || !*want) {
        *out = avx2 ? &kernels_avx2 : &kernels_scalar;
        return STELE_OK;
    }
    if (strcmp(want, "scalar") == 0) {
        *out = &kernels_scalar;
        return STELE_OK;
    }
    if (strcmp(want, "avx2") == 0) {
        if (!avx2)
            return stele_fail(err, STELE_ERR_ARGUMENT, "STELE_KERNELS=avx2: %s",
                              kernels_avx2.name ? "this CPU does not run AVX2 and FMA instructions"
                                                : "this build has no AVX2 kernels");
        *out = &kernels_avx2;
        return STELE_OK;
    }
    return stele_fail(err, STELE_ERR_ARGUMENT, "STELE_KERNELS=%.40s: unknown kernel set (scalar, "
                      "avx2)", want);
#endif
}

const char *stele_kernels_name(void)
{
    const kernels *k;
    return kernels_select(&k, NULL) == STELE_OK ? k->name : NULL;
}
