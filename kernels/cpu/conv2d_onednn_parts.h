// What the files of oneDNN's float32 conv2d share (kernels/cpu/conv2d_onednn.cpp: the
// forward and data gradient; kernels/cpu/conv2d_onednn_filter.cpp: the filter gradient by
// blocks; kernels/cpu/conv2d_onednn_ours.cpp: our Winograd blocks in their place): the
// geometry in oneDNN's terms, the descriptors' pieces, the choice of Winograd (Note [winograd
// conv2d] in conv2d_onednn.cpp), operands in the layouts a primitive wants, a prepared weight,
// and running a pass on one thread. Defined in conv2d_onednn_parts.cpp (our blocks' pieces in
// conv2d_onednn_ours.cpp); included by those files only; built only with oneDNN.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <oneapi/dnnl/dnnl.hpp>
#include <string>
#include <tuple>

#include "../conv2d.h"
#include "conv2d_onednn.h"
#include "onednn_engine.h"
#include "winograd_f43.h"

namespace tg::kernels::cpu::onednn::parts {

using dnnl::memory;
using Tag = memory::format_tag;
using Type = memory::data_type;

struct Shapes {
  memory::dims x, weight, y, strides, dilation, pad_l, pad_r;
  Tag weight_tag;
};

// The geometry in oneDNN's terms, or false when it cannot express it (a right padding
// below 0, which our output-size rule allows when the stride skips the last rows).
bool shapes_of(const Conv2dGeometry& g, Shapes* s);
// The shapes of a block of `count` samples of a's batch, or false as shapes_of.
bool block_shapes(const Conv2dArgs& a, int64_t count, Shapes* s);

// The oneDNN type of the operands (x, weight, grad_out); results are always f32.
Type operand_type(DType dtype);
memory::desc any_layout(const memory::dims& dims, Type type = Type::f32);
memory::desc plain(const memory::dims& dims, Tag tag, Type type = Type::f32);
// The bias (C_out,), float32 (Note [conv2d bias]).
memory::desc bias_desc(const Shapes& s);
// The layout of y and its gradient in the caller's buffers: NCHW, or nChw16c for a conv
// block (Note [conv block], kernels/batch_norm.h); and of x (the forward's and the filter
// pass's).
Tag y_tag(const Conv2dArgs& a);
Tag x_tag(const Conv2dArgs& a);

// Note [winograd conv2d]: whether oneDNN's Winograd kernels may take the shapes (float32, 3x3,
// stride 1, no dilation or groups, channels in multiples of 16, a CPU it has them for); only
// passes made and run on one thread use them.
bool winograd_takes(const Shapes& s, Type in);

// Whether a pass over a's batch may take Winograd (Note [winograd conv2d]): one made and run
// per block on one thread (`one_thread`), over a batch of at least two blocks (a smaller one,
// as one image's inference, keeps the direct convolution on every thread).
inline bool winograd_allowed(const Conv2dArgs& a, bool one_thread) {
  return one_thread && a.g.n >= 2 * kBlockSamples;
}

// Makes a pass's descriptor with `make(algorithm)`: Winograd first where winograd_takes
// allows it (and `winograd` says this pass may), the direct convolution when oneDNN has no
// Winograd for the case.
template <typename Make>
auto first_taken(const Shapes& s, Type in, bool winograd, Make&& make) {
  if (winograd && winograd_takes(s, in)) {
    try {
      return make(dnnl::algorithm::convolution_winograd);
    } catch (const dnnl::error& e) {
      if (e.status != dnnl_unimplemented) throw;
    }
  }
  return make(dnnl::algorithm::convolution_direct);
}

// The forward's descriptor: the pass itself (output f32, with the bias when asked), or the
// hint a backward pass is made from (its output is the backward's operand, so of the
// operands' type).
dnnl::convolution_forward::primitive_desc forward_desc(const Shapes& s, Type in, Type out,
                                                       bool bias, dnnl::algorithm algorithm);

// Note [made passes]
// A pass's primitive descriptor and primitive are made once per thread and key and kept
// (made_pass). Made per call, each cost oneDNN its implementation search and a lookup in its
// own primitive cache, a few microseconds each, and the MNIST CNN's step asks for ~100 of
// them (the Winograd passes run per block of 16 samples; a backward pass also makes the
// forward's descriptor as its hint): ~2% of the step's samples in `perf`, and kept, the step
// 2-4% shorter (bench/NOTES.md, eleventh session). The key holds all a descriptor depends on:
// the shapes, the operands' type, the bias, whether Winograd is allowed, and the thread count
// oneDNN plans it for (omp_get_max_threads() when it is made). At most kMadePasses per thread
// and kind of pass are kept, all dropped when more come (a run with ever new shapes).
struct PassKey {
  memory::dims x, weight, y, strides, dilation, pad_l, pad_r;
  Type in;
  bool bias, winograd;
  int threads;
  bool operator<(const PassKey& o) const {
    return std::tie(x, weight, y, strides, dilation, pad_l, pad_r, in, bias, winograd, threads) <
           std::tie(o.x, o.weight, o.y, o.strides, o.dilation, o.pad_l, o.pad_r, o.in, o.bias,
                    o.winograd, o.threads);
  }
};
PassKey pass_key(const Shapes& s, Type in, bool bias, bool winograd);

template <typename Primitive>
struct MadePass {
  typename Primitive::primitive_desc pd;
  Primitive primitive;
};

constexpr size_t kMadePasses = 256;

// The pass of `key` (a copy: both are handles), made with make_desc() the first time.
template <typename Primitive, typename MakeDesc>
MadePass<Primitive> made_pass(const PassKey& key, MakeDesc&& make_desc) {
  thread_local std::map<PassKey, MadePass<Primitive>> made;
  const auto found = made.find(key);
  if (found != made.end()) return found->second;
  if (made.size() >= kMadePasses) made.clear();
  const typename Primitive::primitive_desc pd = make_desc();
  MadePass<Primitive> pass{pd, Primitive(pd)};
  made.emplace(key, pass);
  return pass;
}

// A buffer 64-byte aligned (oneDNN's Winograd kernels load and store with aligned moves)
// that only grows: get(bytes) returns at least that many.
class AlignedBuffer {
 public:
  void* get(size_t bytes);
  void* data() const { return data_.get(); }

 private:
  struct Free {
    void operator()(void* p) const;
  };
  std::unique_ptr<void, Free> data_;
  size_t size_ = 0;
};

// A user buffer in the layout a primitive wants: the buffer itself when the layouts agree
// and it is 64-byte aligned, else a thread-local buffer (slot 0-2) that `user` is reordered
// into, or out of.
class Operand {
 public:
  Operand(const memory::desc& user_desc, void* user_data, const memory::desc& wanted, int slot);
  const memory& get() const { return memory_; }
  void load(dnnl::stream& stream);
  void store(dnnl::stream& stream);

 private:
  memory user_, memory_;
  bool reordered_ = false;
};

using onednn::OneThread;

}  // namespace tg::kernels::cpu::onednn::parts

namespace tg::kernels::cpu::onednn {

// A weight in the layout a pass wants (conv2d_data_weight, the forward's blocks), or
// transformed for our Winograd blocks (`ours`: Note [winograd f43] in winograd_f43.cpp).
struct PreparedWeight {
  dnnl::memory::desc desc;
  parts::AlignedBuffer data;
  bool ours = false;
};

namespace parts {

// Our Winograd blocks in oneDNN's place (conv2d_onednn_ours.cpp): a's filter transformed for
// them in `direction` (Note [kept transformed filters]), and one block of `count` samples:
// `from` (of layout from_tag) into `to` (of to_tag), "" or what went wrong.
std::shared_ptr<const PreparedWeight> transformed_weight(const Conv2dArgs& a,
                                                         winograd::Direction direction);
std::string our_block(const Conv2dArgs& a, int64_t count, winograd::Direction direction,
                      const void* from, Tag from_tag, void* to, Tag to_tag,
                      const PreparedWeight& weight, const void* bias);

}  // namespace parts
}  // namespace tg::kernels::cpu::onednn
