// CPU launchers of the index ops (kernels/index.h): OpenMP over output elements.
#include "../index.h"

namespace tg::kernels::cpu {

namespace {
// `any_dtype`: the copying ops (gather, index_select) take every dtype, the others only
// floating point (kernels/index.h).
template <bool any_dtype, typename Args, typename Element>
void for_each_output(const Args& args, int64_t numel, Element element) {
  const auto run = [&](auto tag) {
    using T = decltype(tag);
    T* out = static_cast<T*>(args.out);
#pragma omp parallel for schedule(static) if (numel > (1 << 14))
    for (int64_t p = 0; p < numel; ++p) out[p] = element(tag, p);
  };
  if constexpr (any_dtype) {
    visit_storage_dtype(args.dtype, run);
  } else {
    visit_float_dtype(args.dtype, run);
  }
}
}  // namespace

void gather(const GatherArgs& args) {
  for_each_output<true>(args, args.numel, [&](auto tag, int64_t p) {
    return gather_element<decltype(tag)>(args, p);
  });
}

void scatter_add(const ScatterAddArgs& args) {
  for_each_output<false>(args, args.numel, [&](auto tag, int64_t q) {
    return scatter_add_element<decltype(tag)>(args, q);
  });
}

void index_select(const IndexSelectArgs& args) {
  for_each_output<true>(args, args.outer * args.index_count * args.inner, [&](auto tag, int64_t p) {
    return index_select_element<decltype(tag)>(args, p);
  });
}

void index_add(const IndexAddArgs& args) {
  for_each_output<false>(
      args, args.outer * args.out_dim_size * args.inner,
      [&](auto tag, int64_t q) { return index_add_element<decltype(tag)>(args, q); });
}

void one_hot(const OneHotArgs& args) {
  for_each_output<false>(args, args.count * args.classes, [&](auto tag, int64_t p) {
    return one_hot_element<decltype(tag)>(args, p);
  });
}

}  // namespace tg::kernels::cpu
