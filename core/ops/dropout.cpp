// Front-end of dropout (kernels/dropout.h): one kernel for forward and backward, the mask
// regenerated from the generator's (seed, offset) (Note [dropout RNG]); and of relu + dropout
// (Note [relu + dropout]), whose backward is gated by the forward's output instead.
#include "dropout.h"

#include "../../kernels/dropout.h"
#include "../context.h"
#include "elementwise.h"
#include "op_support.h"

namespace tg {

namespace {

// dropout of `in` (with relu: of relu(in)); with `gate`, the backward of relu + dropout
// (Note [relu + dropout], kernels/dropout.h), on the CPU.
Tensor run_dropout(const Tensor& in, double p, RandomState state, bool relu = false,
                   const Tensor& gate = Tensor()) {
  const Tensor src = in.contiguous();
  Tensor out = empty(in.shape(), ops::options_of(in));
  kernels::DropoutArgs args{in.dtype(),
                            in.numel(),
                            src.raw_data_ptr(),
                            out.raw_data_ptr(),
                            state.seed,
                            state.offset,
                            kernels::dropout_threshold(p),
                            p < 1 ? 1.0 / (1.0 - p) : 0.0,
                            state.offset_base};
  args.relu = relu;
  args.gate = gate.defined() ? gate.raw_data_ptr() : nullptr;
  TG_ON_DEVICE(in.device(), kernels::cpu::dropout(args), stream,
               kernels::cuda::dropout(args, stream));
  return out;
}

}  // namespace

TG_REGISTER_OP("dropout");
Tensor dropout(const Tensor& x, double p, bool training, Generator* generator) {
  ops::check_float("dropout", x);
  TG_CHECK(p >= 0 && p <= 1, "dropout: p must be in [0, 1], got ", p);
  if (!training || p == 0) return x;
  Generator& source = generator != nullptr ? *generator : context(x.device()).generator();
  const RandomState state = context(x.device()).reserve_random(source);
  const Tensor y = run_dropout(x.detach(), p, state);
  return autograd::record("DropoutBackward", y, {x}, [p, state](const Tensor& g) {
    return std::vector<Tensor>{run_dropout(g, p, state)};
  });
}

TG_REGISTER_OP("relu_dropout");
Tensor relu_dropout(const Tensor& x, double p, bool training, Generator* generator) {
  ops::check_float("relu_dropout", x);
  TG_CHECK(p >= 0 && p <= 1, "relu_dropout: p must be in [0, 1], got ", p);
  if (!training || p == 0 || !x.device().is_cpu()) return dropout(relu(x), p, training, generator);
  Generator& source = generator != nullptr ? *generator : context(x.device()).generator();
  const RandomState state = context(x.device()).reserve_random(source);
  const Tensor y = run_dropout(x.detach(), p, state, /*relu=*/true);
  // The output gates the backward (detached: the node must not hold its own output's history).
  return autograd::record("ReluDropoutBackward", y, {x},
                          [p, state, sy = autograd::SavedTensor(y.detach())](const Tensor& g) {
                            const Tensor& gate = sy.get("ReluDropoutBackward");
                            return std::vector<Tensor>{run_dropout(g, p, state, false, gate)};
                          });
}

}  // namespace tg
