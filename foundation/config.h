// tamegrad's build-wide macros: the export pragmas of the shared library.
//
// TG_WITH_CUDA (1 when the library has its CUDA backend: kernels/cuda/, cuBLAS, cuDNN; else
// 0) is not defined here: the build defines it on every target that compiles tamegrad's
// own code (CMakeLists.txt), and -Wundef turns a file that tests it without it into an
// error. Public headers never test it, so a consumer needs nothing from the build.
#pragma once

// Note [exported symbols]
// libtamegrad is compiled with hidden visibility: only what public headers declare
// between TG_API_BEGIN and TG_API_END is exported from the shared library (the tensor,
// autograd, ops, optimizers). Kernel launchers (tg::kernels) and core's internals stay
// inside it; tests and benchmarks that call them link the static tamegrad_internal.
#if defined(__GNUC__) || defined(__clang__)
#define TG_API_BEGIN _Pragma("GCC visibility push(default)")
#define TG_API_END _Pragma("GCC visibility pop")
// For what the pragma does not reach: explicit instantiations of function templates.
#define TG_EXPORT __attribute__((visibility("default")))
#else
#define TG_EXPORT
#define TG_API_BEGIN
#define TG_API_END
#endif
