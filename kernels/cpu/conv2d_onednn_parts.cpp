// The pieces oneDNN's float32 conv2d files share (conv2d_onednn_parts.h): the geometry and
// descriptors in oneDNN's terms, the choice of Winograd (Note [winograd conv2d] in
// conv2d_onednn.cpp), operands in the layouts a primitive wants. Built only with oneDNN.
#include "conv2d_onednn_parts.h"

#include <omp.h>

#include <cstdint>
#include <cstdlib>
#include <new>
#include <oneapi/dnnl/dnnl.hpp>

#include "../conv2d.h"
#include "conv2d_onednn.h"
#include "onednn_engine.h"

namespace tg::kernels::cpu::onednn {

namespace parts {

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

bool block_shapes(const Conv2dArgs& a, int64_t count, Shapes* s) {
  Conv2dGeometry g = a.g;
  g.n = count;
  return shapes_of(g, s);
}

Type operand_type(DType dtype) { return dtype == DType::BFloat16 ? Type::bf16 : Type::f32; }

memory::desc any_layout(const memory::dims& dims, Type type) {
  return memory::desc(dims, type, Tag::any);
}

memory::desc plain(const memory::dims& dims, Tag tag, Type type) {
  return memory::desc(dims, type, tag);
}

memory::desc bias_desc(const Shapes& s) { return memory::desc({s.y[1]}, Type::f32, Tag::a); }

Tag y_tag(const Conv2dArgs& a) { return a.blocked ? Tag::nChw16c : Tag::nchw; }
Tag x_tag(const Conv2dArgs& a) { return a.x_blocked ? Tag::nChw16c : Tag::nchw; }

}  // namespace parts

// Whether this CPU has oneDNN's Winograd kernels (a probe on the MNIST CNN's third layer, made
// once: the ISA does not change).
bool conv2d_winograd_available() {
  using namespace parts;
  static const bool available = [] {
    Shapes s;
    shapes_of({16, 64, 7, 7, 128, 3, 3, 1, 1, 1, 1, 1, 1, 1, 7, 7}, &s);
    try {
      const OneThread one;
      (void)forward_desc(s, Type::f32, Type::f32, false, dnnl::algorithm::convolution_winograd);
      return true;
    } catch (const dnnl::error&) {
      return false;
    }
  }();
  return available;
}

namespace parts {

bool winograd_takes(const Shapes& s, Type in) {
  return in == Type::f32 && s.weight.size() == 4 && s.weight[2] == 3 && s.weight[3] == 3 &&
         s.strides == memory::dims{1, 1} && s.dilation == memory::dims{0, 0} && s.x[1] % 16 == 0 &&
         s.y[1] % 16 == 0 && conv2d_winograd_available();
}

dnnl::convolution_forward::primitive_desc forward_desc(const Shapes& s, Type in, Type out,
                                                       bool bias, dnnl::algorithm algorithm) {
  const auto prop = dnnl::prop_kind::forward_training;
  const auto desc =
      bias ? dnnl::convolution_forward::desc(
                 prop, algorithm, any_layout(s.x, in), any_layout(s.weight, in), bias_desc(s),
                 any_layout(s.y, out), s.strides, s.dilation, s.pad_l, s.pad_r)
           : dnnl::convolution_forward::desc(prop, algorithm, any_layout(s.x, in),
                                             any_layout(s.weight, in), any_layout(s.y, out),
                                             s.strides, s.dilation, s.pad_l, s.pad_r);
  return dnnl::convolution_forward::primitive_desc(desc, cpu_engine());
}

PassKey pass_key(const Shapes& s, Type in, bool bias, bool winograd) {
  PassKey key{s.x, s.weight, s.y, s.strides, s.dilation, s.pad_l, s.pad_r, in, bias, winograd, 1};
  key.threads = omp_get_max_threads();
  return key;
}

void AlignedBuffer::Free::operator()(void* p) const { std::free(p); }

void* AlignedBuffer::get(size_t bytes) {
  if (bytes > size_) {
    const size_t rounded = (bytes + 63) / 64 * 64;
    data_.reset();
    data_.reset(std::aligned_alloc(64, rounded));
    if (data_ == nullptr) {
      size_ = 0;
      throw std::bad_alloc();
    }
    size_ = rounded;
  }
  return data_.get();
}

Operand::Operand(const memory::desc& user_desc, void* user_data, const memory::desc& wanted,
                 int slot)
    : user_(user_desc, cpu_engine(), user_data) {
  if (wanted == user_desc && reinterpret_cast<uintptr_t>(user_data) % 64 == 0) {
    memory_ = user_;
    return;
  }
  thread_local AlignedBuffer buffers[3];
  memory_ = memory(wanted, cpu_engine(), buffers[slot].get(wanted.get_size()));
  reordered_ = true;
}

void Operand::load(dnnl::stream& stream) {
  if (reordered_) dnnl::reorder(user_, memory_).execute(stream, user_, memory_);
}

void Operand::store(dnnl::stream& stream) {
  if (reordered_) dnnl::reorder(memory_, user_).execute(stream, memory_, user_);
}

}  // namespace parts

}  // namespace tg::kernels::cpu::onednn
