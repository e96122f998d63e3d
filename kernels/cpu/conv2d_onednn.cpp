// Float32 conv2d forward and data gradient on the CPU through oneDNN's convolution
// primitives (kernels/cpu/conv2d.cpp calls these first and falls back to its im2col + GEMM
// when they decline). Built only with oneDNN (TG_WITH_ONEDNN). Under autocast (Note
// [autocast], core/autocast.h) the operands (x, weight, grad_out) are bfloat16 and the result
// float32: the primitives take them as they are, accumulating in float32.
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
// runs per block of our own split, one thread each (Note [onednn filter gradient]). Primitive
// descriptors and primitives are created per call: oneDNN caches primitives itself (measured 3.3 us
// for a descriptor, primitive and reorder from its cache), so we keep no state. The blocked buffers
// are thread-local and only grow.
#include <omp.h>

#include <memory>
#include <oneapi/dnnl/dnnl.hpp>
#include <string>
#include <unordered_map>
#include <vector>

#include "../conv2d.h"
#include "conv2d_onednn.h"
#include "onednn_engine.h"

namespace tg::kernels::cpu::onednn {

// A weight in the layout a pass wants (conv2d_data_weight).
struct PreparedWeight {
  dnnl::memory::desc desc;
  std::vector<char> data;
};

namespace {

using dnnl::memory;
using Tag = memory::format_tag;

struct Shapes {
  memory::dims x, weight, y, strides, dilation, pad_l, pad_r;
  Tag weight_tag;
};

// The geometry in oneDNN's terms, or false when it cannot express it (a right padding
// below 0, which our output-size rule allows when the stride skips the last rows).
bool shapes_of(const Conv2dGeometry& g, Shapes* s) {
  const int64_t pad_r_h = (g.out_h - 1) * g.stride_h + (g.kh - 1) * g.dil_h + 1 - g.h - g.pad_h;
  const int64_t pad_r_w = (g.out_w - 1) * g.stride_w + (g.kw - 1) * g.dil_w + 1 - g.w - g.pad_w;
  if (pad_r_h < 0 || pad_r_w < 0 || g.n == 0 || g.out_h <= 0 || g.out_w <= 0) return false;
  s->x = {g.n, g.c_in, g.h, g.w};
  s->y = {g.n, g.c_out, g.out_h, g.out_w};
  if (g.groups == 1) {
    s->weight = {g.c_out, g.c_in, g.kh, g.kw};
    s->weight_tag = Tag::oihw;
  } else {
    s->weight = {g.groups, g.c_out / g.groups, g.c_in / g.groups, g.kh, g.kw};
    s->weight_tag = Tag::goihw;
  }
  s->strides = {g.stride_h, g.stride_w};
  s->dilation = {g.dil_h - 1, g.dil_w - 1};  // oneDNN counts the gaps
  s->pad_l = {g.pad_h, g.pad_w};
  s->pad_r = {pad_r_h, pad_r_w};
  return true;
}

// The shapes of a block of `count` samples of a's batch, or false as shapes_of.
bool block_shapes(const Conv2dArgs& a, int64_t count, Shapes* s) {
  Conv2dGeometry g = a.g;
  g.n = count;
  return shapes_of(g, s);
}

using Type = memory::data_type;

// The oneDNN type of the operands (x, weight, grad_out); results are always f32.
Type operand_type(DType dtype) { return dtype == DType::BFloat16 ? Type::bf16 : Type::f32; }

memory::desc any_layout(const memory::dims& dims, Type type = Type::f32) {
  return memory::desc(dims, type, Tag::any);
}

// The bias (C_out,), float32 (Note [conv2d bias]).
memory::desc bias_desc(const Shapes& s) { return memory::desc({s.y[1]}, Type::f32, Tag::a); }

// The forward's descriptor: the pass itself (output f32, with the bias when asked), or the
// hint a backward pass is made from (its output is the backward's operand, so of the
// operands' type).
dnnl::convolution_forward::primitive_desc forward_desc(const Shapes& s, Type in, Type out,
                                                       bool bias = false) {
  const auto prop = dnnl::prop_kind::forward_training;
  const auto algo = dnnl::algorithm::convolution_direct;
  const auto desc =
      bias ? dnnl::convolution_forward::desc(
                 prop, algo, any_layout(s.x, in), any_layout(s.weight, in), bias_desc(s),
                 any_layout(s.y, out), s.strides, s.dilation, s.pad_l, s.pad_r)
           : dnnl::convolution_forward::desc(prop, algo, any_layout(s.x, in),
                                             any_layout(s.weight, in), any_layout(s.y, out),
                                             s.strides, s.dilation, s.pad_l, s.pad_r);
  return dnnl::convolution_forward::primitive_desc(desc, cpu_engine());
}

// A user buffer in the layout a primitive wants: the buffer itself when the layouts agree,
// else a thread-local buffer (slot) that `user` is reordered into, or out of.
class Operand {
 public:
  Operand(const memory::desc& user_desc, void* user_data, const memory::desc& wanted, int slot)
      : user_(user_desc, cpu_engine(), user_data) {
    if (wanted == user_desc) {
      memory_ = user_;
      return;
    }
    thread_local std::vector<std::vector<char>> buffers(3);
    std::vector<char>& buffer = buffers[slot];
    if (buffer.size() < wanted.get_size()) buffer.resize(wanted.get_size());
    memory_ = memory(wanted, cpu_engine(), buffer.data());
    reordered_ = true;
  }
  const memory& get() const { return memory_; }
  void load(dnnl::stream& stream) {
    if (reordered_) dnnl::reorder(user_, memory_).execute(stream, user_, memory_);
  }
  void store(dnnl::stream& stream) {
    if (reordered_) dnnl::reorder(memory_, user_).execute(stream, memory_, user_);
  }

 private:
  memory user_, memory_;
  bool reordered_ = false;
};

memory::desc plain(const memory::dims& dims, Tag tag, Type type = Type::f32) {
  return memory::desc(dims, type, tag);
}

// The layout of y and its gradient in the caller's buffers: NCHW, or nChw16c for a conv
// block (Note [conv block], kernels/batch_norm.h).
Tag y_tag(const Conv2dArgs& a) { return a.blocked ? Tag::nChw16c : Tag::nchw; }
// And of x (the forward's and the filter pass's).
Tag x_tag(const Conv2dArgs& a) { return a.x_blocked ? Tag::nChw16c : Tag::nchw; }

// Runs one pass; false when oneDNN has no implementation for the case (the caller falls
// back), a tg::Error naming oneDNN's status for any other failure.
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

// Note [onednn filter gradient]
// oneDNN's filter gradient divides the batch between the threads it runs on, so its sums
// depend on their number. It runs here per block of our own split instead (Note [cpu
// conv2d]: blocks fixed by the shape, partials added in block order), each block on one
// thread: the thread's OpenMP count is set to one while the primitive is made and run, so
// oneDNN plans it for one thread and the block's sum has the same bits on any thread. Measured
// at batch 128, 2 threads (bench/NOTES.md): conv 32->64 on 14x14 5.5 -> 3.4-3.7 ms against
// our im2col + GEMM, 64->128 on 7x7 5.0 -> 3.6-3.8 ms.
class OneThread {
 public:
  OneThread() : saved_(omp_get_max_threads()) { omp_set_num_threads(1); }
  ~OneThread() { omp_set_num_threads(saved_); }
  OneThread(const OneThread&) = delete;
  OneThread& operator=(const OneThread&) = delete;

 private:
  int saved_;
};

// The filter gradient's descriptor, with the bias's gradient when asked.
dnnl::convolution_backward_weights::primitive_desc filter_desc(const Shapes& s, Type in,
                                                               bool bias) {
  const auto algo = dnnl::algorithm::convolution_direct;
  const auto desc = bias ? dnnl::convolution_backward_weights::desc(
                               algo, any_layout(s.x, in), any_layout(s.weight), bias_desc(s),
                               any_layout(s.y, in), s.strides, s.dilation, s.pad_l, s.pad_r)
                         : dnnl::convolution_backward_weights::desc(
                               algo, any_layout(s.x, in), any_layout(s.weight), any_layout(s.y, in),
                               s.strides, s.dilation, s.pad_l, s.pad_r);
  return dnnl::convolution_backward_weights::primitive_desc(desc, cpu_engine(),
                                                            forward_desc(s, in, in, bias));
}

// The data pass's descriptor for the samples `s` describes.
dnnl::convolution_backward_data::primitive_desc data_desc(const Shapes& s, Type in) {
  const dnnl::convolution_backward_data::desc desc(
      dnnl::algorithm::convolution_direct, any_layout(s.x), any_layout(s.weight, in),
      any_layout(s.y, in), s.strides, s.dilation, s.pad_l, s.pad_r);
  return dnnl::convolution_backward_data::primitive_desc(desc, cpu_engine(),
                                                         forward_desc(s, in, in));
}

// The data gradient of the samples `s` describes: grad_out (the output's gradient, NCHW or
// blocked as a says) into out (NCHW); the weight from `prepared` where it has the layout the
// pass wants.
void data_pass(const Conv2dArgs& a, const Shapes& s, const void* grad_out, void* out,
               const PreparedWeight* prepared, dnnl::stream& stream) {
  const Type in = operand_type(a.dtype);
  const auto pd = data_desc(s, in);
  Operand dy(plain(s.y, y_tag(a), in), const_cast<void*>(grad_out), pd.diff_dst_desc(), 0);
  const bool ready = prepared != nullptr && prepared->desc == pd.weights_desc();
  Operand w(ready ? prepared->desc : plain(s.weight, s.weight_tag, in),
            ready ? const_cast<char*>(prepared->data.data()) : const_cast<void*>(a.weight),
            pd.weights_desc(), 1);
  Operand dx(plain(s.x, Tag::nchw), out, pd.diff_src_desc(), 2);
  dy.load(stream);
  w.load(stream);
  dnnl::convolution_backward_data(pd).execute(
      stream,
      {{DNNL_ARG_DIFF_DST, dy.get()}, {DNNL_ARG_WEIGHTS, w.get()}, {DNNL_ARG_DIFF_SRC, dx.get()}});
  dx.store(stream);
}

}  // namespace

bool conv2d_filter_takes(const Conv2dArgs& a) {
  Shapes s;
  if ((a.dtype != DType::Float32 && a.dtype != DType::BFloat16) || !shapes_of(a.g, &s)) {
    return false;
  }
  try {
    const OneThread one;
    (void)filter_desc(s, operand_type(a.dtype), a.grad_bias != nullptr);
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
        filter_desc(s, operand_type(a.dtype), a.grad_bias != nullptr).diff_weights_desc();
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
                                float* grad_weight, float* grad_bias, const FilterLayout* layout) {
  const size_t size = element_size(a.dtype);
  char* x = static_cast<char*>(const_cast<void*>(a.x)) + first * a.g.c_in * a.g.h * a.g.w * size;
  char* grad = static_cast<char*>(const_cast<void*>(a.grad_out)) +
               first * a.g.c_out * a.g.out_h * a.g.out_w * size;
  Shapes s;
  if (!block_shapes(a, count, &s)) return "conv2d: oneDNN cannot express a block of the batch";
  try {
    const OneThread one;
    dnnl::stream stream(cpu_engine());
    const Type in = operand_type(a.dtype);
    const auto pd = filter_desc(s, in, grad_bias != nullptr);
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
    dnnl::convolution_backward_weights(pd).execute(stream, args);
    dw.store(stream);
    stream.wait();
  } catch (const dnnl::error& e) {
    return "conv2d: oneDNN's filter gradient failed (status " +
           std::to_string(static_cast<int>(e.status)) + "): " + e.what();
  }
  return "";
}

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
    (void)forward_desc(s, Type::f32, Type::f32, a.bias != nullptr);
  } catch (const dnnl::error& e) {
    if (e.status == dnnl_unimplemented) return false;
    TG_THROW("conv2d: oneDNN failed (status ", static_cast<int>(e.status), "): ", e.what());
  }
  return true;
}

bool conv2d_forward(const Conv2dArgs& a) {
  return run_pass(a, [&](const Shapes& s, dnnl::stream& stream) {
    const Type in = operand_type(a.dtype);
    const auto pd = forward_desc(s, in, Type::f32, a.bias != nullptr);
    Operand x(plain(s.x, x_tag(a), in), const_cast<void*>(a.x), pd.src_desc(), 0);
    Operand w(plain(s.weight, s.weight_tag, in), const_cast<void*>(a.weight), pd.weights_desc(), 1);
    Operand y(plain(s.y, y_tag(a)), a.out, pd.dst_desc(), 2);
    x.load(stream);
    w.load(stream);
    std::unordered_map<int, memory> args = {
        {DNNL_ARG_SRC, x.get()}, {DNNL_ARG_WEIGHTS, w.get()}, {DNNL_ARG_DST, y.get()}};
    if (a.bias != nullptr) {
      args.emplace(DNNL_ARG_BIAS, memory(bias_desc(s), cpu_engine(), const_cast<void*>(a.bias)));
    }
    dnnl::convolution_forward(pd).execute(stream, args);
    y.store(stream);
  });
}

bool conv2d_backward_data(const Conv2dArgs& a) {
  return run_pass(a, [&](const Shapes& s, dnnl::stream& stream) {
    data_pass(a, s, a.grad_out, a.out, nullptr, stream);
  });
}

std::shared_ptr<const PreparedWeight> conv2d_data_weight(const Conv2dArgs& a, int64_t count) {
  Shapes s;
  if (!block_shapes(a, count, &s)) return nullptr;
  try {
    const OneThread one;  // as the blocks make their descriptors
    const Type in = operand_type(a.dtype);
    const auto pd = data_desc(s, in);
    auto prepared = std::make_shared<PreparedWeight>();
    prepared->desc = pd.weights_desc();
    prepared->data.resize(prepared->desc.get_size());
    memory user(plain(s.weight, s.weight_tag, in), cpu_engine(), const_cast<void*>(a.weight));
    memory wanted(prepared->desc, cpu_engine(), prepared->data.data());
    dnnl::stream stream(cpu_engine());
    dnnl::reorder(user, wanted).execute(stream, user, wanted);
    stream.wait();
    return prepared;
  } catch (const dnnl::error&) {
    return nullptr;  // each block reorders the weight itself, or says what is wrong
  }
}

std::string conv2d_data_block(const Conv2dArgs& a, int64_t first, int64_t count,
                              const PreparedWeight* weight) {
  const size_t size = element_size(a.dtype);
  const char* grad =
      static_cast<const char*>(a.grad_out) + first * a.g.c_out * a.g.out_h * a.g.out_w * size;
  char* out = static_cast<char*>(a.out) + first * a.g.c_in * a.g.h * a.g.w * sizeof(float);
  Shapes s;
  if (!block_shapes(a, count, &s)) return "conv2d: oneDNN cannot express a block of the batch";
  try {
    const OneThread one;
    dnnl::stream stream(cpu_engine());
    data_pass(a, s, grad, out, weight, stream);
    stream.wait();
  } catch (const dnnl::error& e) {
    return "conv2d: oneDNN's data gradient failed (status " +
           std::to_string(static_cast<int>(e.status)) + "): " + e.what();
  }
  return "";
}

}  // namespace tg::kernels::cpu::onednn
