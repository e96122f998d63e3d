// The autocast scope's per-thread state (Note [autocast], core/autocast.h).
#include "autocast.h"

#include "../foundation/error.h"

namespace tg {

namespace {
thread_local DType dtypes[2] = {DType::Float32, DType::Float32};  // indexed by DeviceType

void check(DType dtype) {
  TG_CHECK(dtype == DType::BFloat16 || dtype == DType::Float16 || dtype == DType::Float32,
           "autocast: dtype must be bfloat16 or float16 (float32: off), got ", dtype);
}
}  // namespace

autocast::autocast(DType dtype) : previous_{dtypes[0], dtypes[1]} {
  check(dtype);
  dtypes[0] = dtypes[1] = dtype;
}

autocast::autocast(DeviceType device, DType dtype) : previous_{dtypes[0], dtypes[1]} {
  check(dtype);
  dtypes[static_cast<int>(device)] = dtype;
}

autocast::~autocast() {
  dtypes[0] = previous_[0];
  dtypes[1] = previous_[1];
}

DType autocast_dtype(DeviceType device) { return dtypes[static_cast<int>(device)]; }

}  // namespace tg
