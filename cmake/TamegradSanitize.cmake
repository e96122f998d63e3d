# TG_SANITIZE=address,undefined (any -fsanitize= list): instruments the C++ of every
# target built after this point (nvcc does not take these flags). UBSan findings abort, so
# a test that trips one fails.
if(TG_SANITIZE)
  add_compile_options(
    "$<$<COMPILE_LANGUAGE:CXX>:-fsanitize=${TG_SANITIZE};-fno-omit-frame-pointer;-fno-sanitize-recover=all>")
  add_link_options(-fsanitize=${TG_SANITIZE})
endif()
