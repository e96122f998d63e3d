// Our Winograd F(4x4, 3x3) blocks (kernels/cpu/winograd_f43.cpp) in the place of oneDNN's
// (Note [winograd f43]): the filter transformed for them, kept between calls, and one block run
// through nChw16c buffers. Used by conv2d_onednn.cpp's forward and data gradient by blocks
// (conv2d_onednn_parts.h). Built only with oneDNN (TG_WITH_ONEDNN).
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <oneapi/dnnl/dnnl.hpp>
#include <string>
#include <tuple>

#include "conv2d_onednn_parts.h"
#include "onednn_engine.h"
#include "winograd_f43.h"

namespace tg::kernels::cpu::onednn::parts {

namespace {

// Note [kept transformed filters]
// A layer's transformed filter (36·C_in·C_out floats: 1.2 MB for the MNIST CNN's 64->128) was
// allocated for each call and freed after it, twice a step per layer. Each thread now keeps the
// last one it made per (C_in, C_out, direction) and writes the next call's into it when nobody
// holds it any more (the blocks of the call that used it hold a reference until they end, so a
// held one is never written: a new one is made beside it). Measured in the MNIST CNN's runs
// (bench/NOTES.md, fourteenth session): the transform 144-205 -> 108-117 us a call; an epoch's
// median 10.71 -> 10.63 s (libraries alternating three times), ~1%. Kept: filters up to
// kKeptFilterFloats, at most kKeptFilters shapes per thread (all let go when a new one would
// pass that).
constexpr size_t kKeptFilters = 8;
constexpr size_t kKeptFilterFloats = size_t(1) << 20;  // 4 MiB

}  // namespace

// a's filter transformed for our blocks in `direction`.
std::shared_ptr<const PreparedWeight> transformed_weight(const Conv2dArgs& a,
                                                         winograd::Direction direction) {
  using Key = std::tuple<int64_t, int64_t, winograd::Direction>;
  thread_local std::map<Key, std::shared_ptr<PreparedWeight>> kept;
  const size_t floats = winograd::filter_floats(a.g);
  std::shared_ptr<PreparedWeight> prepared;
  if (floats <= kKeptFilterFloats) {
    const Key key{a.g.c_in, a.g.c_out, direction};
    if (kept.count(key) == 0 && kept.size() >= kKeptFilters) kept.clear();
    std::shared_ptr<PreparedWeight>& slot = kept[key];
    if (slot == nullptr || slot.use_count() > 1) slot = std::make_shared<PreparedWeight>();
    prepared = slot;
  } else {
    prepared = std::make_shared<PreparedWeight>();
  }
  prepared->ours = true;
  auto* u = static_cast<float*>(prepared->data.get(floats * sizeof(float)));
  winograd::transform_filter(a.g, direction, static_cast<const float*>(a.weight), u);
  return prepared;
}

// One block of our Winograd: `from` (of layout from_tag, its channels c_from) into `to` (of
// to_tag), both through nChw16c buffers where their own layout differs or they are not aligned.
std::string our_block(const Conv2dArgs& a, int64_t count, winograd::Direction direction,
                      const void* from, Tag from_tag, void* to, Tag to_tag,
                      const PreparedWeight& weight, const void* bias) {
  const bool forward = direction == winograd::Direction::Forward;
  const int64_t c_from = forward ? a.g.c_in : a.g.c_out, c_to = forward ? a.g.c_out : a.g.c_in;
  const memory::dims from_dims{count, c_from, a.g.h, a.g.w}, to_dims{count, c_to, a.g.h, a.g.w};
  return failure_of("conv2d: the Winograd blocks", [&] {
    dnnl::stream stream(cpu_engine());
    Operand in(plain(from_dims, from_tag), const_cast<void*>(from), plain(from_dims, Tag::nChw16c),
               0);
    Operand out(plain(to_dims, to_tag), to, plain(to_dims, Tag::nChw16c), 2);
    in.load(stream);
    stream.wait();
    thread_local AlignedBuffer scratch;
    winograd::convolve_block(
        count, c_from, c_to, a.g.h, a.g.w, static_cast<const float*>(in.get().get_data_handle()),
        static_cast<const float*>(weight.data.data()), static_cast<const float*>(bias),
        static_cast<float*>(out.get().get_data_handle()),
        static_cast<float*>(scratch.get(winograd::scratch_floats(c_from, c_to) * sizeof(float))));
    out.store(stream);
    stream.wait();
  });
}

}  // namespace tg::kernels::cpu::onednn::parts
