// oneDNN's filter gradient by blocks of the batch (Note [onednn filter gradient] in
// conv2d_onednn_filter.cpp), and a conv block's backward by blocks (Note [conv block] in
// kernels/batch_norm.h): each block's output gradient written into a thread's buffer and read
// there by both passes on that thread. The launchers of kernels/conv2d.h that only a conv
// block uses.
#include <algorithm>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "../conv2d.h"
#include "conv2d_onednn.h"
#include "conv2d_parts.h"

namespace tg::kernels::cpu {

namespace {

using namespace conv2d_parts;

// The blocks' partials in oneDNN's layout for the filter gradient (`filter`; OIHW when null),
// then the bias's.
struct OnednnPartials {
  std::shared_ptr<const onednn::FilterLayout> filter;
  PartialLayout layout;
};
OnednnPartials onednn_partials(const Conv2dArgs& a, int64_t block) {
  OnednnPartials p{onednn::conv2d_filter_layout(a, std::min(a.g.n, block)),
                   partial_layout(a, group_dims(a.g))};
  if (p.filter != nullptr) {
    const int64_t floats = onednn::conv2d_filter_floats(*p.filter);
    p.layout = {floats, floats + (a.grad_bias != nullptr ? a.g.c_out : 0)};
  }
  return p;
}

// Block i's gradient into its partial, from the block's output gradient at grad_out; "" or
// what went wrong.
std::string onednn_filter_block(const Conv2dArgs& a, const Blocks& blocks, const OnednnPartials& p,
                                int64_t i, const void* grad_out, float* partials) {
  const int64_t first = i * blocks.size;
  float* partial = partials + i * p.layout.size;
  return onednn::conv2d_filter_block(
      a, first, std::min(blocks.size, a.g.n - first), grad_out, partial,
      a.grad_bias != nullptr ? partial + p.layout.filter_size : nullptr, p.filter.get());
}

// Samples' elements of the output (its gradient's, as the passes read it).
int64_t output_sample(const Conv2dArgs& a) { return a.g.c_out * a.g.out_h * a.g.out_w; }

// A block's output gradient, written and read on one thread (conv2d_backward_blocks).
struct BlockGradientUse {};

// Every block's partial, each block on one thread; what went wrong inside the region is thrown
// after it.
void onednn_filter_partials(const Conv2dArgs& a, const Blocks& blocks, const OnednnPartials& p,
                            float* partials) {
  std::string failure;
#pragma omp parallel for schedule(static) if (blocks.count > 1)
  for (int64_t i = 0; i < blocks.count; ++i) {
    const char* grad = static_cast<const char*>(a.grad_out) +
                       i * blocks.size * output_sample(a) * element_size(a.dtype);
    std::string error = onednn_filter_block(a, blocks, p, i, grad, partials);
    if (!error.empty()) {
#pragma omp critical(conv2d_filter_failure)
      if (failure.empty()) failure = std::move(error);
    }
  }
  if (!failure.empty()) TG_THROW(failure);
}

// The blocks' partials added: the filter's into args.out, through oneDNN's layout when the
// blocks wrote theirs in it; the bias's into grad_bias.
void finish_onednn_partials(const Conv2dArgs& a, const Blocks& blocks, const OnednnPartials& p,
                            float* partials) {
  sum_partials(a, blocks, p.layout, partials,
               p.filter != nullptr ? partials : static_cast<float*>(a.out));
  if (p.filter != nullptr) onednn::conv2d_filter_unblock(a, *p.filter, partials);
}

}  // namespace

void conv2d_parts::onednn_filter_gradient(const Conv2dArgs& a) {
  const Blocks blocks = onednn_blocks(a.g.n);
  const OnednnPartials p = onednn_partials(a, onednn::kBlockSamples);
  float* const partials = partials_buffer<float>(blocks.count * p.layout.size);
  onednn_filter_partials(a, blocks, p, partials);
  finish_onednn_partials(a, blocks, p, partials);
}

void conv2d_blocked_input(const Conv2dArgs& args, void* out) {
  check_conv2d_geometry(args.g);
  onednn::conv2d_blocked_input(args, out);
}

void conv2d_backward_blocks(
    const Conv2dArgs* data, const Conv2dArgs* filter,
    const std::function<void(int64_t first, int64_t count, void* grad_out)>& write_grad_out) {
  TG_CHECK(data != nullptr || filter != nullptr, "conv2d: a block backward without a pass");
  const Conv2dArgs& any = data != nullptr ? *data : *filter;
  if (filter != nullptr) check_layouts(*filter);
  TG_CHECK(any.blocked && any.dtype == DType::Float32,
           "conv2d: the backward by blocks takes a float32 conv block (Note [conv block])");
  check_conv2d_geometry(any.g);
  const int64_t n = any.g.n;
  if (n == 0) {
    if (filter != nullptr) {
      std::fill_n(static_cast<float*>(filter->out),
                  partial_layout(*filter, group_dims(filter->g)).filter_size, 0.0f);
      if (filter->grad_bias != nullptr)
        std::fill_n(static_cast<float*>(filter->grad_bias), filter->g.c_out, 0.0f);
    }
    return;
  }
  const Blocks blocks = onednn_blocks(n);
  const OnednnPartials p =
      filter != nullptr ? onednn_partials(*filter, blocks.size) : OnednnPartials{nullptr, {0, 0}};
  float* const partials =
      filter != nullptr ? partials_buffer<float>(blocks.count * p.layout.size) : nullptr;
  // The weight in the data pass's layout once, not per block.
  const std::shared_ptr<const onednn::PreparedWeight> weight =
      data != nullptr ? onednn::conv2d_data_weight(*data, std::min(n, blocks.size)) : nullptr;
  std::string failure;
#pragma omp parallel for schedule(static) if (blocks.count > 1)
  for (int64_t i = 0; i < blocks.count; ++i) {
    const int64_t first = i * blocks.size, count = std::min(blocks.size, n - first);
    std::string error;
    float* grad = nullptr;
    try {
      grad = aligned_thread_buffer<float, BlockGradientUse>(count * output_sample(any));
      write_grad_out(first, count, grad);
    } catch (const std::exception& e) {
      error = e.what();
    }
    if (error.empty() && data != nullptr)
      error = onednn::conv2d_data_block(*data, first, count, grad, weight.get());
    if (error.empty() && filter != nullptr)
      error = onednn_filter_block(*filter, blocks, p, i, grad, partials);
    if (!error.empty()) {
#pragma omp critical(conv2d_blocks_failure)
      if (failure.empty()) failure = std::move(error);
    }
  }
  if (!failure.empty()) TG_THROW(failure);
  if (filter != nullptr) finish_onednn_partials(*filter, blocks, p, partials);
}

}  // namespace tg::kernels::cpu
