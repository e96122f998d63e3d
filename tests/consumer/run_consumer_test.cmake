# cmake -P script: install the tamegrad build in BUILD_DIR into WORK_DIR/prefix, then
# configure, build and run the consumer project in SOURCE_DIR against that prefix only,
# with CONSUMER_CMAKE when given (another CMake version) or this CMake.
file(REMOVE_RECURSE "${WORK_DIR}")
if(NOT CONSUMER_CMAKE)
  set(CONSUMER_CMAKE "${CMAKE_COMMAND}")
endif()

function(run_step)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  message("${out}${err}")
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "step failed (${rc}): ${ARGN}")
  endif()
endfunction()

run_step(${CMAKE_COMMAND} --install "${BUILD_DIR}" --prefix "${WORK_DIR}/prefix")
# The package exports <prefix>/include and the public API only (Note [includes]).
foreach(internal kernels core/dispatch.h core/cuda_backend.h core/tensor_impl.h core/ops/op_support.h
    core/ops/update_support.h foundation/cuda_check.h)
  if(EXISTS "${WORK_DIR}/prefix/include/tamegrad/${internal}")
    message(FATAL_ERROR "the installed package holds the internal include/tamegrad/${internal}")
  endif()
endforeach()
file(GLOB library "${WORK_DIR}/prefix/lib*/libtamegrad.so")
execute_process(COMMAND nm -DC --defined-only ${library} OUTPUT_VARIABLE symbols RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "nm could not read ${library}")
endif()
string(REGEX MATCH "[^\n]*tg::kernels::[^\n]*" exported_kernel "${symbols}")
if(exported_kernel)
  message(FATAL_ERROR "libtamegrad.so exports a kernel symbol: ${exported_kernel}")
endif()
string(FIND "${symbols}" "tg::Tensor::" public_at)
if(public_at EQUAL -1)
  message(FATAL_ERROR "libtamegrad.so exports no tg::Tensor symbol: the export list is wrong")
endif()

set(flags "")
if(SANITIZE)
  set(flags "-DCMAKE_CXX_FLAGS=-fsanitize=${SANITIZE}" "-DCMAKE_EXE_LINKER_FLAGS=-fsanitize=${SANITIZE}")
endif()
run_step(${CONSUMER_CMAKE} -S "${SOURCE_DIR}" -B "${WORK_DIR}/build" -G "${GENERATOR}"
         "-DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix" ${flags})
run_step(${CONSUMER_CMAKE} --build "${WORK_DIR}/build")
run_step("${WORK_DIR}/build/consumer")
run_step("${WORK_DIR}/build/consumer_aggregates")
