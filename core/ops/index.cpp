// Front-ends of the index and shape ops.
#include "index.h"

#include <memory>

#include "../../kernels/index.h"
#include "../autograd.h"
#include "../factory.h"
#include "op_support.h"

namespace tg {

namespace {

// On the CPU every index is checked (a clear error); on CUDA that would need a host
// round trip, so out-of-range entries give NaN there instead (kernels/index.h).
void check_indices(const char* op, const Tensor& index, int64_t limit) {
  TG_CHECK(index.dtype() == DType::Int64, op, ": indices must be int64, got ", index.dtype());
  if (!index.device().is_cpu()) return;
  const Tensor idx = index.contiguous();
  const int64_t* v = idx.data_ptr<int64_t>();
  for (int64_t i = 0; i < idx.numel(); ++i) {
    TG_CHECK(v[i] >= 0 && v[i] < limit, op, ": index ", v[i], " at position ", i,
             " is out of range [0, ", limit, ")");
  }
}

}  // namespace

TG_REGISTER_OP("gather");
Tensor gather(const Tensor& x, int64_t dim, const Tensor& index) {
  TG_CHECK(x.defined(), "gather: undefined tensor");
  TG_CHECK(index.defined() && index.device() == x.device(), "gather: index must be on ",
           x.device());
  TG_CHECK(index.dim() == x.dim() && x.dim() > 0, "gather: index of shape ", index.shape(),
           " must have the dims of the input ", x.shape());
  const int64_t d = ops::wrap_dim("gather", dim, x.dim());
  for (int64_t k = 0; k < x.dim(); ++k) {
    TG_CHECK(k == d || index.size(k) <= x.size(k), "gather: index shape ", index.shape(),
             " exceeds input shape ", x.shape(), " at dim ", k);
  }
  check_indices("gather", index, x.size(d));
  const Tensor idx = index.contiguous();
  Tensor out = empty(index.shape(), ops::options_of(x));
  kernels::GatherArgs args{};
  args.dtype = x.dtype();
  ops::copy_shape(index.shape(), &args.ndim, args.sizes);
  args.dim = static_cast<int>(d);
  args.numel = out.numel();
  args.index = idx.data_ptr<int64_t>();
  args.src = x.raw_data_ptr();
  for (int k = 0; k < args.ndim; ++k) args.src_strides[k] = x.stride(k);
  args.src_dim_size = x.size(d);
  args.out = out.raw_data_ptr();
  TG_ON_DEVICE(x.device(), kernels::cpu::gather(args), stream, kernels::cuda::gather(args, stream));
  return autograd::record("GatherBackward", out, {x}, [d, idx, shape = x.shape()](const Tensor& g) {
    return std::vector<Tensor>{scatter_add_along(g, d, idx, shape)};
  });
}

Tensor scatter_add_along(const Tensor& grad, int64_t dim, const Tensor& index, const Shape& shape) {
  ops::check_float("scatter_add", grad);
  TG_CHECK(grad.shape() == index.shape(), "scatter_add: grad ", grad.shape(), " and index ",
           index.shape(), " differ");
  const int64_t d = ops::wrap_dim("scatter_add", dim, static_cast<int64_t>(shape.size()));
  check_indices("scatter_add", index, shape[d]);
  const Tensor g = grad.contiguous();
  const Tensor idx = index.contiguous();
  Tensor out = empty(shape, ops::options_of(grad));
  kernels::ScatterAddArgs args{};
  args.dtype = grad.dtype();
  ops::copy_shape(shape, &args.ndim, args.out_sizes);
  for (int k = 0; k < args.ndim; ++k) args.index_sizes[k] = index.size(k);
  args.dim = static_cast<int>(d);
  args.numel = out.numel();
  args.index = idx.data_ptr<int64_t>();
  args.grad = g.raw_data_ptr();
  args.out = out.raw_data_ptr();
  TG_ON_DEVICE(out.device(), kernels::cpu::scatter_add(args), stream,
               kernels::cuda::scatter_add(args, stream));
  return autograd::record("ScatterAddBackward", out, {grad}, [d, idx](const Tensor& g) {
    return std::vector<Tensor>{gather(g, d, idx)};
  });
}

namespace {
Tensor index_add_along(const Tensor& grad, int64_t d, const Tensor& idx, const Shape& shape);
}

TG_REGISTER_OP("index_select");
Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index) {
  TG_CHECK(x.defined(), "index_select: undefined tensor");
  TG_CHECK(index.defined() && index.dim() == 1 && index.device() == x.device(),
           "index_select: index must be 1-D on ", x.device());
  TG_CHECK(x.dim() > 0, "index_select: the input must have at least one dim");
  const int64_t d = ops::wrap_dim("index_select", dim, x.dim());
  check_indices("index_select", index, x.size(d));
  const Tensor src = x.detach().contiguous();
  const Tensor idx = index.contiguous();
  Shape shape = x.shape();
  shape[d] = index.numel();
  Tensor out = empty(shape, ops::options_of(x));
  int64_t outer = 1, inner = 1;
  for (int64_t k = 0; k < d; ++k) outer *= x.size(k);
  for (int64_t k = d + 1; k < x.dim(); ++k) inner *= x.size(k);
  const kernels::IndexSelectArgs args{x.dtype(),
                                      outer,
                                      inner,
                                      x.size(d),
                                      index.numel(),
                                      idx.data_ptr<int64_t>(),
                                      src.raw_data_ptr(),
                                      out.raw_data_ptr()};
  TG_ON_DEVICE(x.device(), kernels::cpu::index_select(args), stream,
               kernels::cuda::index_select(args, stream));
  return autograd::record("IndexSelectBackward", out, {x},
                          [d, idx, in_shape = x.shape()](const Tensor& g) {
                            return std::vector<Tensor>{index_add_along(g, d, idx, in_shape)};
                          });
}

namespace {
Tensor index_add_along(const Tensor& grad, int64_t d, const Tensor& idx, const Shape& shape) {
  const Tensor g = grad.contiguous();
  Tensor out = empty(shape, ops::options_of(grad));
  int64_t outer = 1, inner = 1;
  for (int64_t k = 0; k < d; ++k) outer *= shape[k];
  for (int64_t k = d + 1; k < static_cast<int64_t>(shape.size()); ++k) inner *= shape[k];
  const kernels::IndexAddArgs args{grad.dtype(),
                                   outer,
                                   inner,
                                   shape[d],
                                   idx.numel(),
                                   idx.data_ptr<int64_t>(),
                                   g.raw_data_ptr(),
                                   out.raw_data_ptr()};
  TG_ON_DEVICE(out.device(), kernels::cpu::index_add(args), stream,
               kernels::cuda::index_add(args, stream));
  return out;
}
}  // namespace

TG_REGISTER_OP("one_hot");
Tensor one_hot(const Tensor& labels, int64_t num_classes, DType dtype) {
  TG_CHECK(num_classes > 0, "one_hot: num_classes must be positive, got ", num_classes);
  TG_CHECK(is_floating(dtype), "one_hot: dtype must be floating-point, got ", dtype);
  check_indices("one_hot", labels, num_classes);
  const Tensor l = labels.contiguous();
  Shape shape = labels.shape();
  shape.push_back(num_classes);
  Tensor out = empty(shape, TensorOptions(dtype).device(labels.device()));
  const kernels::OneHotArgs args{dtype, labels.numel(), num_classes, l.data_ptr<int64_t>(),
                                 out.raw_data_ptr()};
  TG_ON_DEVICE(out.device(), kernels::cpu::one_hot(args), stream,
               kernels::cuda::one_hot(args, stream));
  return out;
}

TG_REGISTER_OP("cat");
Tensor cat(const std::vector<Tensor>& tensors, int64_t dim) {
  TG_CHECK(!tensors.empty(), "cat: no tensors given");
  const Tensor& first = tensors.front();
  TG_CHECK(first.defined() && first.dim() > 0, "cat: tensors must have at least one dim");
  const int64_t d = ops::wrap_dim("cat", dim, first.dim());
  Shape shape = first.shape();
  shape[d] = 0;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const Tensor& t = tensors[i];
    TG_CHECK(t.defined() && t.dtype() == first.dtype() && t.device() == first.device() &&
                 t.dim() == first.dim(),
             "cat: tensor ", i, " (", t.defined() ? t.dtype() : first.dtype(), ", shape ",
             t.defined() ? t.shape() : Shape{}, ") does not match tensor 0 (", first.dtype(), ", ",
             first.device(), ", shape ", first.shape(), ")");
    for (int64_t k = 0; k < t.dim(); ++k) {
      TG_CHECK(k == d || t.size(k) == first.size(k), "cat: tensor ", i, " has shape ", t.shape(),
               ", tensor 0 has ", first.shape(), "; they may differ only in dim ", d);
    }
    shape[d] += t.size(d);
  }
  Tensor out = empty(shape, ops::options_of(first));
  std::vector<int64_t> sizes;
  int64_t start = 0;
  for (const Tensor& t : tensors) {
    out.slice(d, start, start + t.size(d)).copy_(t.detach());
    start += t.size(d);
    sizes.push_back(t.size(d));
  }
  return autograd::record_composed("CatBackward", out, tensors, [d, sizes](const Tensor& g) {
    std::vector<Tensor> grads;
    int64_t begin = 0;
    for (int64_t size : sizes) {
      grads.push_back(g.slice(d, begin, begin + size));
      begin += size;
    }
    return grads;
  });
}

TG_REGISTER_OP("stack");
Tensor stack(const std::vector<Tensor>& tensors, int64_t dim) {
  TG_CHECK(!tensors.empty(), "stack: no tensors given");
  const int64_t d = ops::wrap_dim("stack", dim, tensors.front().dim() + 1);
  std::vector<Tensor> expanded;
  for (size_t i = 0; i < tensors.size(); ++i) {
    TG_CHECK(tensors[i].defined() && tensors[i].shape() == tensors.front().shape(),
             "stack: tensor ", i, " has shape ",
             tensors[i].defined() ? tensors[i].shape() : Shape{}, ", tensor 0 has ",
             tensors.front().shape());
    expanded.push_back(tensors[i].unsqueeze(d));
  }
  return cat(expanded, d);
}

// Note [unbind]: a node makes one tensor, but unbind makes T. Each entry's node hands its
// gradient to a shared buffer (written in place at its position) and passes a 0-d zero on
// to one gather node, whose edge leads to x; the engine runs the gather node only after
// every entry's node that received a gradient, so the buffer is complete when it hands it
// to x (entries without a gradient leave zeros). The buffer is taken by the gather node,
// so a retained graph starts from a fresh one.
TG_REGISTER_OP("unbind");
std::vector<Tensor> unbind(const Tensor& x, int64_t dim) {
  TG_CHECK(x.defined() && x.dim() > 0, "unbind: needs a tensor with at least one dimension, got ",
           x.defined() ? x.shape() : Shape{});
  const int64_t d = ops::wrap_dim("unbind", dim, x.dim());
  std::vector<Tensor> out;
  out.reserve(static_cast<size_t>(x.size(d)));
  if (!autograd::any_requires_grad({x})) {
    for (int64_t i = 0; i < x.size(d); ++i) out.push_back(x.select(d, i));
    return out;
  }
  Tensor base = x.detach();
  auto buffer = std::make_shared<Tensor>();
  const Shape shape = x.shape();
  const TensorOptions options = ops::options_of(x);
  const Tensor token = autograd::record(
      "UnbindBackward", zeros({}, options), {x}, [buffer, shape, options](const Tensor&) {
        Tensor grad = buffer->defined() ? *buffer : zeros(shape, options);
        *buffer = Tensor();
        return std::vector<Tensor>{grad};
      });
  for (int64_t i = 0; i < x.size(d); ++i) {
    out.push_back(autograd::record("UnbindEntryBackward", base.select(d, i), {token},
                                   [buffer, shape, options, d, i](const Tensor& g) {
                                     if (!buffer->defined()) *buffer = zeros(shape, options);
                                     buffer->select(d, i).copy_(g);
                                     return std::vector<Tensor>{zeros({}, options)};
                                   }));
  }
  return out;
}

TG_REGISTER_OP("flatten");
Tensor flatten(const Tensor& x, int64_t start_dim, int64_t end_dim) {
  if (x.dim() == 0) return x.reshape({1});
  const int64_t s = ops::wrap_dim("flatten", start_dim, x.dim());
  const int64_t e = ops::wrap_dim("flatten", end_dim, x.dim());
  TG_CHECK(s <= e, "flatten: start_dim ", start_dim, " comes after end_dim ", end_dim);
  Shape shape(x.shape().begin(), x.shape().begin() + s);
  int64_t merged = 1;
  for (int64_t k = s; k <= e; ++k) merged *= x.size(k);
  shape.push_back(merged);
  shape.insert(shape.end(), x.shape().begin() + e + 1, x.shape().end());
  return x.reshape(shape);
}

}  // namespace tg
