// oneDNN's float32 filter gradient (with the bias's) for one block of the batch, on the calling
// thread alone (kernels/cpu/conv2d_blocks.cpp runs the blocks and adds their partials). Built
// only with oneDNN (TG_WITH_ONEDNN).
//
// Note [onednn filter gradient]
// oneDNN's filter gradient divides the batch between the threads it runs on, so its sums
// depend on their number. It runs here per block of our own split instead (Note [cpu
// conv2d]: blocks fixed by the shape, partials added in block order), each block on one
// thread: the thread's OpenMP count is set to one while the primitive is made and run, so
// oneDNN plans it for one thread and the block's sum has the same bits on any thread. Measured
// at batch 128, 2 threads (bench/NOTES.md): conv 32->64 on 14x14 5.5 -> 3.4-3.7 ms against
// our im2col + GEMM, 64->128 on 7x7 5.0 -> 3.6-3.8 ms. Being on one thread, a block takes
// Winograd where the shapes allow it (Note [winograd conv2d] in conv2d_onednn.cpp).
#include <memory>
#include <oneapi/dnnl/dnnl.hpp>
#include <string>
#include <unordered_map>

#include "../conv2d.h"
#include "conv2d_onednn.h"
#include "conv2d_onednn_parts.h"
#include "onednn_engine.h"

namespace tg::kernels::cpu::onednn {

namespace {

using namespace parts;

// The filter gradient for a block (`s`) of a's batch, with the bias's gradient when asked (Note
// [made passes]); made on one thread (OneThread), so Winograd where it is allowed.
MadePass<dnnl::convolution_backward_weights> filter_made(const Conv2dArgs& a, const Shapes& s,
                                                         Type in, bool bias) {
  const bool winograd = winograd_allowed(a, true);
  return made_pass<dnnl::convolution_backward_weights>(pass_key(s, in, bias, winograd), [&] {
    return first_taken(s, in, winograd, [&](dnnl::algorithm algo) {
      const auto desc = bias ? dnnl::convolution_backward_weights::desc(
                                   algo, any_layout(s.x, in), any_layout(s.weight), bias_desc(s),
                                   any_layout(s.y, in), s.strides, s.dilation, s.pad_l, s.pad_r)
                             : dnnl::convolution_backward_weights::desc(
                                   algo, any_layout(s.x, in), any_layout(s.weight),
                                   any_layout(s.y, in), s.strides, s.dilation, s.pad_l, s.pad_r);
      return dnnl::convolution_backward_weights::primitive_desc(
          desc, cpu_engine(), forward_desc(s, in, in, bias, algo));
    });
  });
}

}  // namespace

bool conv2d_filter_takes(const Conv2dArgs& a) {
  Shapes s;
  if ((a.dtype != DType::Float32 && a.dtype != DType::BFloat16) || !shapes_of(a.g, &s)) {
    return false;
  }
  try {
    const OneThread one;
    (void)filter_made(a, s, operand_type(a.dtype), a.grad_bias != nullptr);
  } catch (const dnnl::error& e) {
    if (e.status == dnnl_unimplemented) return false;
    TG_THROW("conv2d: oneDNN failed (status ", static_cast<int>(e.status), "): ", e.what());
  }
  return true;
}

// The layout of the filter gradient a pass of blocks of samples writes (oneDNN's own).
struct FilterLayout {
  dnnl::memory::desc desc;
};

std::shared_ptr<const FilterLayout> conv2d_filter_layout(const Conv2dArgs& a, int64_t count) {
  Shapes s;
  if (!block_shapes(a, count, &s)) return nullptr;
  try {
    const OneThread one;  // as the blocks make their descriptors
    auto layout = std::make_shared<FilterLayout>();
    layout->desc =
        filter_made(a, s, operand_type(a.dtype), a.grad_bias != nullptr).pd.diff_weights_desc();
    if (layout->desc.get_size() % sizeof(float) != 0) return nullptr;
    return layout;
  } catch (const dnnl::error&) {
    return nullptr;  // the blocks write OIHW
  }
}

int64_t conv2d_filter_floats(const FilterLayout& layout) {
  return static_cast<int64_t>(layout.desc.get_size() / sizeof(float));
}

void conv2d_filter_unblock(const Conv2dArgs& a, const FilterLayout& layout, const float* blocked) {
  Shapes s;
  TG_CHECK(shapes_of(a.g, &s), "conv2d: oneDNN cannot express the filter's gradient");
  try {
    memory in(layout.desc, cpu_engine(), const_cast<float*>(blocked));
    memory out(plain(s.weight, s.weight_tag), cpu_engine(), a.out);
    dnnl::stream stream(cpu_engine());
    dnnl::reorder(in, out).execute(stream, in, out);
    stream.wait();
  } catch (const dnnl::error& e) {
    TG_THROW("conv2d: oneDNN failed (status ", static_cast<int>(e.status), "): ", e.what());
  }
}

std::string conv2d_filter_block(const Conv2dArgs& a, int64_t first, int64_t count,
                                const void* grad_out, float* grad_weight, float* grad_bias,
                                const FilterLayout* layout) {
  const size_t size = element_size(a.dtype);
  char* x = static_cast<char*>(const_cast<void*>(a.x)) + first * a.g.c_in * a.g.h * a.g.w * size;
  char* grad = static_cast<char*>(const_cast<void*>(grad_out));
  Shapes s;
  if (!block_shapes(a, count, &s)) return "conv2d: oneDNN cannot express a block of the batch";
  return failure_of("conv2d: oneDNN's filter gradient", [&] {
    const OneThread one;
    dnnl::stream stream(cpu_engine());
    const Type in = operand_type(a.dtype);
    const auto pass = filter_made(a, s, in, grad_bias != nullptr);
    const auto& pd = pass.pd;
    Operand xs(plain(s.x, x_tag(a), in), x, pd.src_desc(), 0);
    Operand dy(plain(s.y, y_tag(a), in), grad, pd.diff_dst_desc(), 1);
    Operand dw(layout != nullptr ? layout->desc : plain(s.weight, s.weight_tag), grad_weight,
               pd.diff_weights_desc(), 2);
    xs.load(stream);
    dy.load(stream);
    std::unordered_map<int, memory> args = {
        {DNNL_ARG_SRC, xs.get()}, {DNNL_ARG_DIFF_DST, dy.get()}, {DNNL_ARG_DIFF_WEIGHTS, dw.get()}};
    if (grad_bias != nullptr)
      args.emplace(DNNL_ARG_DIFF_BIAS, memory(bias_desc(s), cpu_engine(), grad_bias));
    pass.primitive.execute(stream, args);
    dw.store(stream);
    stream.wait();
  });
}

}  // namespace tg::kernels::cpu::onednn
