# TG_CUDA=AUTO|ON|OFF -> TG_WITH_CUDA. AUTO builds CUDA whenever nvcc is found, GPU or
# not, so every .cu file compiles in CI. Also finds cuBLAS (with the toolkit) and cuDNN
# (next to the toolkit, or under CUDNN_ROOT, e.g. the nvidia-cudnn wheel of PyTorch),
# exported as the target tg_cudnn.
include(CheckLanguage)

set(TG_WITH_CUDA OFF)
if(TG_CUDA STREQUAL "ON" OR TG_CUDA STREQUAL "AUTO")
  check_language(CUDA)
  if(CMAKE_CUDA_COMPILER)
    set(TG_WITH_CUDA ON)
  elseif(TG_CUDA STREQUAL "ON")
    message(FATAL_ERROR "TG_CUDA=ON but no CUDA compiler (nvcc) was found; "
                        "put nvcc on PATH or set CMAKE_CUDA_COMPILER")
  else()
    message(STATUS "tamegrad: nvcc not found, building without CUDA")
  endif()
elseif(NOT TG_CUDA STREQUAL "OFF")
  message(FATAL_ERROR "TG_CUDA must be AUTO, ON or OFF, got '${TG_CUDA}'")
endif()

if(TG_WITH_CUDA)
  enable_language(CUDA)
  set(CMAKE_CUDA_STANDARD 17)
  set(CMAKE_CUDA_STANDARD_REQUIRED ON)
  find_package(CUDAToolkit REQUIRED)

  set(CUDNN_ROOT "$ENV{CUDNN_ROOT}" CACHE PATH "Where cuDNN is installed (include/ and lib/)")
  find_path(TG_CUDNN_INCLUDE_DIR cudnn.h
    HINTS "${CUDNN_ROOT}" ${CUDAToolkit_INCLUDE_DIRS} "${CUDAToolkit_LIBRARY_ROOT}"
    PATH_SUFFIXES include)
  find_library(TG_CUDNN_LIBRARY NAMES cudnn libcudnn.so.9
    HINTS "${CUDNN_ROOT}" ${CUDAToolkit_LIBRARY_DIR} "${CUDAToolkit_LIBRARY_ROOT}"
    PATH_SUFFIXES lib lib64 lib/x64)
  if(NOT TG_CUDNN_INCLUDE_DIR OR NOT TG_CUDNN_LIBRARY)
    message(FATAL_ERROR "cuDNN not found (cudnn.h: '${TG_CUDNN_INCLUDE_DIR}', library: "
                        "'${TG_CUDNN_LIBRARY}'); set CUDNN_ROOT to its install prefix, or "
                        "build with TG_CUDA=OFF")
  endif()
  add_library(tg_cudnn INTERFACE)
  target_include_directories(tg_cudnn INTERFACE "$<BUILD_INTERFACE:${TG_CUDNN_INCLUDE_DIR}>")
  target_link_libraries(tg_cudnn INTERFACE "$<BUILD_INTERFACE:${TG_CUDNN_LIBRARY}>")
  install(TARGETS tg_cudnn EXPORT tamegradTargets)
  message(STATUS "tamegrad: cuDNN ${TG_CUDNN_LIBRARY}")
endif()
