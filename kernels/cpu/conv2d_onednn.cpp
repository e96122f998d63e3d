// Float32 conv2d forward and data gradient on the CPU through oneDNN's convolution
// primitives (kernels/cpu/conv2d.cpp calls these first and falls back to its im2col + GEMM
// when they decline), and the pieces conv2d_onednn_filter.cpp shares (conv2d_onednn_parts.h).
// Built only with oneDNN (TG_WITH_ONEDNN). Under autocast (Note [autocast], core/autocast.h)
// the operands (x, weight, grad_out) are bfloat16 and the result float32: the primitives take
// them as they are, accumulating in float32.
//
// Note [onednn conv2d]
// oneDNN's direct convolution kernels (JIT-compiled for the CPU's ISA, what PyTorch runs on
// the CPU) want blocked layouts (nChw16c and friends): each call reorders x and the weight
// from NCHW/OIHW into the layouts the primitive chose and the result back, as PyTorch's
// mkldnn path does. Measured at batch 128, conv 32->64 on 14x14, 2 threads: forward
// 3.7 ms in the primitive against 6.2 ms for our im2col + GEMM (PyTorch 4.6 ms).
// The forward and data-gradient passes split work over samples,
// channel blocks and rows but never split a sum between threads, so their bits do not
// depend on the thread count (tests/unit/conv2d_backend_test.cpp checks 1, 2 and 3
// threads). The filter gradient sums over the batch, which oneDNN divides by thread, so it
// runs per block of our own split, one thread each (Note [onednn filter gradient]). A pass's
// descriptor and primitive are made once per thread and shape and kept (Note [made passes] in
// conv2d_onednn_parts.h); the reorders are made per call (from oneDNN's own cache). The blocked
// buffers are thread-local and only grow.
//
// Note [winograd conv2d]
// A 3x3, stride-1 convolution can be computed on 4x4 output tiles with Winograd's minimal
// filtering F(4x4, 3x3) (Lavin & Gray 2016): the input and filter tiles transformed to 6x6,
// multiplied element by element (summed over channels: a GEMM per tile position), the result
// transformed back; 36 products per tile and channel pair against 144. oneDNN has it for
// float32 on AVX-512 (jit_wino_4x3), forward, data and filter gradient, for channel counts in
// multiples of 16. Its plan (the blocking, the per-thread buffers, the filter gradient's
// reduction) depends on the thread count it is made for: the data gradient of 64->128 on 7x7
// differs in its bits between 1 and 2 threads. So a Winograd pass always runs per block of
// kBlockSamples samples, each block made and run on one thread (OneThread), as the filter
// gradient does: the same bits on any thread count, and the conv block's backward by blocks
// (conv2d_blocks.cpp) the bits of the whole-batch passes. Only batches of two blocks or more
// take it (winograd_allowed; one image's inference keeps every thread on the direct kernels).
// With more threads than blocks some wait (8 blocks at batch 128), where the direct kernels
// on every thread may be faster (not measured: this machine kind has 2 cores); a rule on the
// thread count would put the bits on it.
// The kernels load and store with aligned moves, so every buffer handed to them is 64-byte
// aligned (AlignedBuffer; an unaligned user buffer goes through one). Error: relative RMS
// 8e-7 (forward), 8e-7 (data), 2e-6 (filter) against the direct convolution on the MNIST CNN's
// layers; against a float64 reference up to ~1e-5 of the result's RMS, where the direct kernels
// stay near 1e-6 (conv2d_backend_test's tolerance: max(1e-4, 3e-5 x RMS)). Measured at batch
// 128, 2 threads, AMD EPYC (bench/NOTES.md): forward + data + filter, 32->64 on 14x14
// 12.0 -> 8.0 ms, 64->128 on 7x7 11.0 -> 6.5 ms.
// The forward and data blocks of 3x3, stride-1, pad-1 layers now run on our own F(4x4, 3x3)
// (Note [winograd f43], winograd_f43.cpp; ours_take), which transforms the filter once per call
// where oneDNN transforms it for every block: those blocks 0.56 -> 0.48 ms (32->64 on 14x14)
// and 0.70 -> 0.43 ms (64->128 on 7x7). The filter gradient and other paddings stay on
// oneDNN's. Ours errs ~1.4x oneDNN's (relative RMS 1e-6, up to 1e-5 of the RMS).
#include "conv2d_onednn.h"

#include <algorithm>
#include <memory>
#include <oneapi/dnnl/dnnl.hpp>
#include <string>
#include <unordered_map>
#include <utility>

#include "../conv2d.h"
#include "conv2d_onednn_parts.h"
#include "onednn_engine.h"
#include "winograd_f43.h"

namespace tg::kernels::cpu::onednn {

namespace {

using namespace parts;

// Runs one whole-batch pass; false when oneDNN has no implementation for the case (the caller
// falls back), a tg::Error naming oneDNN's status for any other failure.
template <typename Pass>
bool run_pass(const Conv2dArgs& a, Pass&& pass) {
  Shapes s;
  if ((a.dtype != DType::Float32 && a.dtype != DType::BFloat16) || !shapes_of(a.g, &s)) {
    return false;
  }
  try {
    dnnl::stream stream(cpu_engine());
    pass(s, stream);
    stream.wait();
  } catch (const dnnl::error& e) {
    if (e.status == dnnl_unimplemented) return false;
    TG_THROW("conv2d: oneDNN failed (status ", static_cast<int>(e.status), "): ", e.what());
  }
  return true;
}

// Whether a's whole-batch passes run by blocks, one thread each (Note [winograd conv2d]).
bool by_blocks(const Conv2dArgs& a) {
  Shapes s;
  return a.dtype == DType::Float32 && winograd_allowed(a, true) &&
         block_shapes(a, kBlockSamples, &s) && winograd_takes(s, Type::f32);
}

// Runs block(first, count) for every block of kBlockSamples samples, each on one thread; what
// went wrong inside the region is thrown after it.
template <typename Block>
void run_blocks(const Conv2dArgs& a, Block&& block) {
  const int64_t count = (a.g.n + kBlockSamples - 1) / kBlockSamples;
  std::string failure;
#pragma omp parallel for schedule(static) if (count > 1)
  for (int64_t i = 0; i < count; ++i) {
    const int64_t first = i * kBlockSamples;
    std::string error = block(first, std::min(kBlockSamples, a.g.n - first));
    if (!error.empty()) {
#pragma omp critical(conv2d_onednn_blocks)
      if (failure.empty()) failure = std::move(error);
    }
  }
  if (!failure.empty()) TG_THROW(failure);
}

// `user` (the caller's weight) reordered once into `desc`, the layout a block's pass wants.
std::shared_ptr<const PreparedWeight> prepare_weight(const memory::desc& user, const void* weight,
                                                     const memory::desc& desc) {
  auto prepared = std::make_shared<PreparedWeight>();
  prepared->desc = desc;
  memory from(user, cpu_engine(), const_cast<void*>(weight));
  memory to(desc, cpu_engine(), prepared->data.get(desc.get_size()));
  dnnl::stream stream(cpu_engine());
  dnnl::reorder(from, to).execute(stream, from, to);
  stream.wait();
  return prepared;
}

// The weight operand of a pass that wants `wanted`: the prepared one when it has that layout.
Operand weight_operand(const Conv2dArgs& a, const Shapes& s, const PreparedWeight* prepared,
                       const memory::desc& wanted) {
  const Type in = operand_type(a.dtype);
  const bool ready = prepared != nullptr && prepared->desc == wanted;
  return Operand(ready ? prepared->desc : plain(s.weight, s.weight_tag, in),
                 ready ? prepared->data.data() : const_cast<void*>(a.weight), wanted, 1);
}

// Whether a's Winograd blocks run on ours instead of oneDNN's (Note [winograd f43]).
bool ours_take(const Conv2dArgs& a) {
  return a.dtype == DType::Float32 && winograd::available() && winograd::takes(a.g) && by_blocks(a);
}

// The forward for the samples `s` describes (Note [made passes]); Winograd only when made on one
// thread.
MadePass<dnnl::convolution_forward> forward_made(const Conv2dArgs& a, const Shapes& s,
                                                 bool one_thread) {
  const Type in = operand_type(a.dtype);
  const bool winograd = winograd_allowed(a, one_thread), bias = a.bias != nullptr;
  return made_pass<dnnl::convolution_forward>(pass_key(s, in, bias, winograd), [&] {
    return first_taken(s, in, winograd, [&](dnnl::algorithm algo) {
      return forward_desc(s, in, Type::f32, bias, algo);
    });
  });
}

// The forward of the samples `s` describes: x (at `x`) into y (at `out`).
void forward_pass(const Conv2dArgs& a, const Shapes& s, const void* x, void* out,
                  const PreparedWeight* prepared, bool one_thread, dnnl::stream& stream) {
  const Type in = operand_type(a.dtype);
  const auto pass = forward_made(a, s, one_thread);
  const auto& pd = pass.pd;
  Operand xs(plain(s.x, x_tag(a), in), const_cast<void*>(x), pd.src_desc(), 0);
  Operand w = weight_operand(a, s, prepared, pd.weights_desc());
  Operand y(plain(s.y, y_tag(a)), out, pd.dst_desc(), 2);
  xs.load(stream);
  w.load(stream);
  std::unordered_map<int, memory> args = {
      {DNNL_ARG_SRC, xs.get()}, {DNNL_ARG_WEIGHTS, w.get()}, {DNNL_ARG_DST, y.get()}};
  if (a.bias != nullptr) {
    args.emplace(DNNL_ARG_BIAS, memory(bias_desc(s), cpu_engine(), const_cast<void*>(a.bias)));
  }
  pass.primitive.execute(stream, args);
  y.store(stream);
}

// The data pass for the samples `s` describes (of a's batch; Note [made passes]); Winograd only
// when made on one thread.
MadePass<dnnl::convolution_backward_data> data_made(const Conv2dArgs& a, const Shapes& s, Type in,
                                                    bool one_thread) {
  const bool winograd = winograd_allowed(a, one_thread);
  return made_pass<dnnl::convolution_backward_data>(pass_key(s, in, false, winograd), [&] {
    return first_taken(s, in, winograd, [&](dnnl::algorithm algo) {
      const dnnl::convolution_backward_data::desc desc(
          algo, any_layout(s.x), any_layout(s.weight, in), any_layout(s.y, in), s.strides,
          s.dilation, s.pad_l, s.pad_r);
      return dnnl::convolution_backward_data::primitive_desc(desc, cpu_engine(),
                                                             forward_desc(s, in, in, false, algo));
    });
  });
}

// The data gradient of the samples `s` describes: grad_out (the output's gradient, NCHW or
// blocked as a says) into out (NCHW); the weight from `prepared` where it has the layout the
// pass wants.
void data_pass(const Conv2dArgs& a, const Shapes& s, const void* grad_out, void* out,
               const PreparedWeight* prepared, bool one_thread, dnnl::stream& stream) {
  const Type in = operand_type(a.dtype);
  const auto pass = data_made(a, s, in, one_thread);
  const auto& pd = pass.pd;
  Operand dy(plain(s.y, y_tag(a), in), const_cast<void*>(grad_out), pd.diff_dst_desc(), 0);
  Operand w = weight_operand(a, s, prepared, pd.weights_desc());
  Operand dx(plain(s.x, Tag::nchw), out, pd.diff_src_desc(), 2);
  dy.load(stream);
  w.load(stream);
  pass.primitive.execute(
      stream,
      {{DNNL_ARG_DIFF_DST, dy.get()}, {DNNL_ARG_WEIGHTS, w.get()}, {DNNL_ARG_DIFF_SRC, dx.get()}});
  dx.store(stream);
}

// Block [first, first + count) of the forward, on the calling thread; "" or what went wrong.
std::string forward_block(const Conv2dArgs& a, int64_t first, int64_t count,
                          const PreparedWeight* weight) {
  const size_t size = element_size(a.dtype);
  const char* x = static_cast<const char*>(a.x) + first * a.g.c_in * a.g.h * a.g.w * size;
  char* out = static_cast<char*>(a.out) + first * a.g.c_out * a.g.out_h * a.g.out_w * sizeof(float);
  if (weight != nullptr && weight->ours) {
    return our_block(a, count, winograd::Direction::Forward, x, x_tag(a), out, y_tag(a), *weight,
                     a.bias);
  }
  Shapes s;
  if (!block_shapes(a, count, &s)) return "conv2d: oneDNN cannot express a block of the batch";
  try {
    const OneThread one;
    dnnl::stream stream(cpu_engine());
    forward_pass(a, s, x, out, weight, true, stream);
    stream.wait();
  } catch (const std::exception& e) {
    return std::string("conv2d: oneDNN's forward failed: ") + e.what();
  }
  return "";
}

// The forward by blocks (Note [winograd conv2d]), the weight reordered once for them.
void forward_blocks(const Conv2dArgs& a) {
  std::shared_ptr<const PreparedWeight> weight;
  Shapes s;
  if (ours_take(a)) {
    weight = transformed_weight(a, winograd::Direction::Forward);
  } else if (block_shapes(a, std::min(a.g.n, kBlockSamples), &s)) {
    try {
      const OneThread one;  // as the blocks make their descriptors
      weight = prepare_weight(plain(s.weight, s.weight_tag, operand_type(a.dtype)), a.weight,
                              forward_made(a, s, true).pd.weights_desc());
    } catch (const dnnl::error&) {
      weight = nullptr;  // each block reorders the weight itself, or says what is wrong
    }
  }
  run_blocks(a, [&](int64_t first, int64_t count) {
    return forward_block(a, first, count, weight.get());
  });
}

}  // namespace

void conv2d_blocked_input(const Conv2dArgs& a, void* out) {
  Shapes s;
  TG_CHECK(a.dtype == DType::Float32 && a.g.c_in % 16 == 0 && shapes_of(a.g, &s),
           "conv2d: a blocked input is float32 with channels a multiple of 16");
  try {
    memory user(plain(s.x, Tag::nchw), cpu_engine(), const_cast<void*>(a.x));
    memory blocked(plain(s.x, Tag::nChw16c), cpu_engine(), out);
    dnnl::stream stream(cpu_engine());
    dnnl::reorder(user, blocked).execute(stream, user, blocked);
    stream.wait();
  } catch (const dnnl::error& e) {
    TG_THROW("conv2d: oneDNN failed (status ", static_cast<int>(e.status), "): ", e.what());
  }
}

bool conv2d_blocked_takes(const Conv2dArgs& a) {
  Shapes s;
  if (a.dtype != DType::Float32 || a.g.c_out % 16 != 0 || !shapes_of(a.g, &s)) return false;
  try {
    (void)forward_desc(s, Type::f32, Type::f32, a.bias != nullptr,
                       dnnl::algorithm::convolution_direct);
  } catch (const dnnl::error& e) {
    if (e.status == dnnl_unimplemented) return false;
    TG_THROW("conv2d: oneDNN failed (status ", static_cast<int>(e.status), "): ", e.what());
  }
  return true;
}

bool conv2d_forward(const Conv2dArgs& a) {
  if (by_blocks(a)) {
    forward_blocks(a);
    return true;
  }
  return run_pass(a, [&](const Shapes& s, dnnl::stream& stream) {
    forward_pass(a, s, a.x, a.out, nullptr, false, stream);
  });
}

bool conv2d_backward_data(const Conv2dArgs& a) {
  if (by_blocks(a)) {
    const std::shared_ptr<const PreparedWeight> weight =
        conv2d_data_weight(a, std::min(a.g.n, kBlockSamples));
    run_blocks(a, [&](int64_t first, int64_t count) {
      const char* grad = static_cast<const char*>(a.grad_out) +
                         first * a.g.c_out * a.g.out_h * a.g.out_w * element_size(a.dtype);
      return conv2d_data_block(a, first, count, grad, weight.get());
    });
    return true;
  }
  return run_pass(a, [&](const Shapes& s, dnnl::stream& stream) {
    data_pass(a, s, a.grad_out, a.out, nullptr, false, stream);
  });
}

std::shared_ptr<const PreparedWeight> conv2d_data_weight(const Conv2dArgs& a, int64_t count) {
  if (ours_take(a)) return transformed_weight(a, winograd::Direction::Data);
  Shapes s;
  if (!block_shapes(a, count, &s)) return nullptr;
  try {
    const OneThread one;  // as the blocks make their descriptors
    const Type in = operand_type(a.dtype);
    return prepare_weight(plain(s.weight, s.weight_tag, in), a.weight,
                          data_made(a, s, in, true).pd.weights_desc());
  } catch (const dnnl::error&) {
    return nullptr;  // each block reorders the weight itself, or says what is wrong
  }
}

std::string conv2d_data_block(const Conv2dArgs& a, int64_t first, int64_t count,
                              const void* grad_out, const PreparedWeight* weight) {
  const char* grad = static_cast<const char*>(grad_out);
  char* out = static_cast<char*>(a.out) + first * a.g.c_in * a.g.h * a.g.w * sizeof(float);
  if (weight != nullptr && weight->ours) {
    return our_block(a, count, winograd::Direction::Data, grad, y_tag(a), out, Tag::nchw, *weight,
                     nullptr);
  }
  Shapes s;
  if (!block_shapes(a, count, &s)) return "conv2d: oneDNN cannot express a block of the batch";
  return failure_of("conv2d: oneDNN's data gradient", [&] {
    const OneThread one;
    dnnl::stream stream(cpu_engine());
    data_pass(a, s, grad, out, weight, true, stream);
    stream.wait();
  });
}

}  // namespace tg::kernels::cpu::onednn
