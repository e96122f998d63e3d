# The warnings every target of the project compiles its own code with. TG_WERROR=ON (what
# scripts/test.sh and CI use) makes them errors, so a warning cannot land; it is off by
# default so that a user's newer compiler with new warnings still builds the library.
option(TG_WERROR "Treat warnings in the project's own code as errors" OFF)
set(TG_WARNINGS -Wall -Wextra -Wpedantic -Wundef)
set(TG_CUDA_WARNINGS -Xcompiler=-Wall,-Wextra)
if(TG_WERROR)
  list(APPEND TG_WARNINGS -Werror)
  list(APPEND TG_CUDA_WARNINGS -Xcompiler=-Werror --Werror=all-warnings)
endif()
