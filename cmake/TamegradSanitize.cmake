# TG_SANITIZE=address,undefined (any -fsanitize= list): instruments the C++ of every
# target built after this point (nvcc does not take these flags). UBSan findings abort, so
# a test that trips one fails.
if(TG_SANITIZE)
  add_compile_options(
    "$<$<COMPILE_LANGUAGE:CXX>:-fsanitize=${TG_SANITIZE};-fno-omit-frame-pointer;-fno-sanitize-recover=all>")
  add_link_options(-fsanitize=${TG_SANITIZE})
endif()

# TG_FUZZ=ON: every target's C++ carries libFuzzer's coverage instrumentation, so the fuzz
# targets (tests/fuzz) see the paths they take through the library.
if(TG_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "TG_FUZZ=ON needs clang's libFuzzer: configure with "
                        "-DCMAKE_CXX_COMPILER=clang++ (found ${CMAKE_CXX_COMPILER_ID})")
  endif()
  add_compile_options("$<$<COMPILE_LANGUAGE:CXX>:-fsanitize=fuzzer-no-link>")
endif()
