/*
 * MKL (linked into DJL's libtorch) checks the CPU vendor before choosing its kernels and gives
 * AMD CPUs its AVX2 code even when they have AVX-512 (Zen 4 and later). MKL asks this function;
 * answering "Intel" lets it choose by the CPU's actual features (still read from CPUID, so AMX
 * or other missing extensions stay off). Measured on this machine's 2-core AMD EPYC: fp32 matmul
 * 2048^3 171 -> 384 GFLOP/s, 256x768x3072 141 -> 307 GFLOP/s (bench/README.md).
 * The launcher builds it with the system C compiler and preloads it on AMD CPUs only.
 */
int mkl_serv_intel_cpu_true(void) {
    return 1;
}
