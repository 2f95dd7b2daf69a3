/* fl_simd.h -- runtime dispatch of block loops, and the SIMD level actually selected.
 * FL_CLONES makes gcc emit x86-64-v4 (AVX-512), x86-64-v3 (AVX2+FMA) and baseline
 * versions of a function and pick one at load time through a glibc ifunc.
 */
#ifndef FL_SIMD_H
#define FL_SIMD_H
#if defined(FL_NATIVE) || !defined(__x86_64__) || !defined(__GLIBC__) || !defined(__GNUC__) \
    || defined(__clang__)
#define FL_CLONES
#else
#define FL_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#endif

/* The level FL_CLONES dispatches to on this CPU (the same test gcc's resolver makes). */
static inline const char *fl_simd_level(void)
{
#if defined(FL_NATIVE)
    return "native (-march=native build)";
#elif defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__GLIBC__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("x86-64-v4")) return "AVX-512 (x86-64-v4)";
    if (__builtin_cpu_supports("x86-64-v3")) return "AVX2 (x86-64-v3)";
    return "baseline (x86-64)";
#else
    return "baseline (no runtime dispatch on this platform)";
#endif
}
#endif
