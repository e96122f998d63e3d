# The warnings every target of the project compiles its own code with. TG_WERROR=ON (what
# scripts/test.sh and CI use) makes them errors, so a warning cannot land; it is off by
# default so that a user's newer compiler with new warnings still builds the library.
option(TG_WERROR "Treat warnings in the project's own code as errors" OFF)
set(TG_WARNINGS -Wall -Wextra -Wpedantic -Wundef)
if(CMAKE_CXX_COMPILER_ID MATCHES "Clang")
  # clang reports `#pragma omp simd` loops it could not vectorise; under the fuzz build's
  # sanitizers (scripts/test.sh fuzz) none can be, which says nothing about the code.
  list(APPEND TG_WARNINGS -Wno-pass-failed)
endif()
set(TG_CUDA_WARNINGS -Xcompiler=-Wall,-Wextra)
if(TG_WERROR)
  list(APPEND TG_WARNINGS -Werror)
  list(APPEND TG_CUDA_WARNINGS -Xcompiler=-Werror --Werror=all-warnings)
endif()
