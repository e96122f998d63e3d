// TG_ISA_CLONES: compile a CPU hot loop once per x86-64 level and pick the clone for the CPU
// at load time (GCC and Clang function multiversioning, resolved once through an ifunc), so a
// build for any x86-64 still runs AVX-512 or AVX2 code where the CPU has it. Put it on a
// non-template function that the OpenMP loop calls (the loop's outlined body is not cloned);
// the templates and lambdas it calls are inlined into each clone. The build turns
// floating-point contraction off (-ffp-contract=off), so every clone computes the same bits:
// a wider ISA only does more of the same lanes at once.
// cpu_has_avx512f(): the run-time gate of the hand-written AVX-512 paths (Note [pooling lanes],
// Note [sparse rows product]), for x86-64 builds with GCC or Clang.
#pragma once

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) && !defined(TG_NO_ISA_CLONES)
#define TG_ISA_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define TG_ISA_CLONES
#endif

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
namespace tg::kernels::cpu {
// Whether this CPU has AVX-512F (asked once).
inline bool cpu_has_avx512f() {
  static const bool has = __builtin_cpu_supports("avx512f");
  return has;
}
}  // namespace tg::kernels::cpu
#endif
