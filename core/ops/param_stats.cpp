// Front-end of the per-tensor parameter statistics: checks and dispatch.
#include "param_stats.h"

#include "../../kernels/param_stats.h"
#include "../dispatch.h"
#include "../factory.h"
#include "op_support.h"

namespace tg {

// The front-end's columns are the kernel's.
static_assert(int{kParamStatColumns} == int{kernels::kStatColumns} &&
                  int{kGradSquares} == int{kernels::kGradSquares} &&
                  int{kWeightSquares} == int{kernels::kWeightSquares} &&
                  int{kUpdateSquares} == int{kernels::kUpdateSquares} &&
                  int{kZeroGrads} == int{kernels::kZeroGrads},
              "param_stats: the columns of core/ops/param_stats.h and kernels/param_stats.h");

ParamStatsLayout param_stats_layout(const std::vector<int64_t>& sizes, const Device& device) {
  for (size_t t = 0; t < sizes.size(); ++t)
    TG_CHECK(sizes[t] >= 0, "param_stats_layout: tensor ", t, " has size ", sizes[t]);
  ParamStatsLayout layout;
  for (int64_t size : sizes) layout.numel += size;
  const std::vector<int64_t> pieces = kernels::stat_pieces(sizes, &layout.first);
  const int64_t count = static_cast<int64_t>(pieces.size() / 2);
  Tensor host = empty({count, 2}, TensorOptions(DType::Int64));
  std::copy(pieces.begin(), pieces.end(), host.data_ptr<int64_t>());
  layout.pieces = host.to(device);
  return layout;
}

void param_stats_(const Tensor& params, const Tensor& grads, const Tensor& previous,
                  const ParamStatsLayout& layout, const Tensor& sums) {
  const char* op = "param_stats";
  ops::check_float(op, params);
  for (const auto& [name, t] : {std::pair<const char*, const Tensor&>{"params", params},
                                {"grads", grads},
                                {"previous", previous}}) {
    TG_CHECK(t.defined() && t.dim() == 1 && t.is_contiguous() && t.dtype() == params.dtype() &&
                 t.device() == params.device() && t.numel() == params.numel(),
             op, ": ", name, " must be a contiguous 1-D ", params.dtype(), " buffer of ",
             params.numel(), " elements on ", params.device(), ", got ",
             t.defined() ? t.str() : std::string("an undefined tensor"));
  }
  const int64_t count = layout.piece_count();
  const Shape pieces_shape{count, 2}, sums_shape{count, kernels::kStatColumns};
  TG_CHECK(layout.pieces.defined() && layout.pieces.dtype() == DType::Int64 &&
               layout.pieces.is_contiguous() && layout.pieces.shape() == pieces_shape &&
               layout.pieces.device() == params.device(),
           op, ": the layout's pieces must be a contiguous (", count, ", 2) int64 tensor on ",
           params.device());
  TG_CHECK(sums.defined() && sums.dtype() == DType::Float64 && sums.is_contiguous() &&
               sums.shape() == sums_shape && sums.device() == params.device(),
           op, ": sums must be a contiguous (", count, ", ", int{kernels::kStatColumns},
           ") float64 tensor on ", params.device(), ", got ",
           sums.defined() ? sums.str() : std::string("an undefined tensor"));
  TG_CHECK(layout.numel == params.numel(), op, ": the layout covers ", layout.numel,
           " elements, the buffers hold ", params.numel());
  const kernels::ParamStatsArgs args{params.dtype(),
                                     params.raw_data_ptr(),
                                     grads.raw_data_ptr(),
                                     previous.raw_data_ptr(),
                                     layout.pieces.data_ptr<int64_t>(),
                                     count,
                                     sums.data_ptr<double>()};
  const Device device = params.device();
  TG_ON_DEVICE(device, kernels::cpu::param_stats(args), stream,
               kernels::cuda::param_stats(args, stream));
  previous.bump_version();
  sums.bump_version();
}

}  // namespace tg
