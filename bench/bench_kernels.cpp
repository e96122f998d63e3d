// bench_kernels: the training kernels (fused optimizer updates, global norm, full sum and
// max, clip + Adam (fixed and history-based), unit-wise adaptive clipping, dropout, batchnorm) at
// 1M, 10M and 100M float32 elements, on the CPU and on every CUDA device. Each row gives the best
// time, the effective bandwidth from the fewest bytes the work must move (e.g. 28 B per parameter
// for Adam: p, m, v read and written, g read) and that bandwidth as a fraction of the device's
// measured copy bandwidth (CPU: multi-threaded memcpy; GPU: device-to-device copy), both counting
// bytes read plus bytes written. bench/torch_peer.py times the same work in PyTorch.
//
// Each time is the median of many runs (100 on a GPU, each timed with CUDA events).
//
//   bench_kernels [--json] [--quick] [--cuda-only]   --quick: 1M elements only, few runs
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "../core/autograd.h"
#include "../core/dispatch.h"
#include "../core/factory.h"
#include "../core/ops.h"
#include "../core/ops/op_support.h"
#include "../core/threads.h"
#include "../kernels/batch_norm.h"
#include "bench_common.h"

namespace tg::bench {
namespace {

struct Row {
  std::string device, name;
  int64_t elements;
  double seconds, bytes;
};

// The device's copy bandwidth (bytes read + written per second). CPU: the faster of a
// threaded memcpy in 1 MiB chunks and a threaded copy loop (plain stores; memcpy may
// stream past the cache and lose to it); GPU: Tensor::copy_ between two contiguous float32
// buffers, which is one cudaMemcpyAsync.
double copy_bandwidth(const Device& device, int64_t n, int repeats) {
  const Tensor src = full({n}, 1.0, device), dst = empty({n}, device);
  const size_t bytes = static_cast<size_t>(n) * 4;
  if (!device.is_cpu()) {
    return 2.0 * bytes / median_seconds(device, repeats, [&] { Tensor(dst).copy_(src); });
  }
  float* d = dst.data_ptr<float>();
  const float* from = src.data_ptr<float>();
  const double memcpy_s = median_seconds(device, repeats, [&] {
    const int64_t chunk = 1 << 20;
#pragma omp parallel for schedule(static)
    for (int64_t off = 0; off < static_cast<int64_t>(bytes); off += chunk) {
      std::memcpy(reinterpret_cast<char*>(d) + off, reinterpret_cast<const char*>(from) + off,
                  std::min<int64_t>(chunk, bytes - off));
    }
  });
  const double loop_s = median_seconds(device, repeats, [&] {
#pragma omp parallel for simd schedule(static)
    for (int64_t i = 0; i < n; ++i) d[i] = from[i];
  });
  return 2.0 * bytes / std::min(memcpy_s, loop_s);
}

void print(const Flags& flags, const Row& r, double copy_bw) {
  const double gbps = r.bytes / r.seconds / 1e9;
  if (flags.json) {
    std::printf(
        "{\"device\": \"%s\", \"name\": \"%s\", \"elements\": %lld, \"seconds\": %.6e, \"gbps\": "
        "%.2f, "
        "\"fraction_of_copy\": %.3f}\n",
        r.device.c_str(), r.name.c_str(), static_cast<long long>(r.elements), r.seconds, gbps,
        gbps * 1e9 / copy_bw);
  } else {
    std::printf("%-8s %-16s %11lld %12.3f %10.1f %9.2f\n", r.device.c_str(), r.name.c_str(),
                static_cast<long long>(r.elements), r.seconds * 1e3, gbps, gbps * 1e9 / copy_bw);
  }
}

void bench_device(const Flags& flags, const Device& device) {
  const std::vector<int64_t> sizes = flags.quick
                                         ? std::vector<int64_t>{1 << 20}
                                         : std::vector<int64_t>{1 << 20, 10 << 20, 100 << 20};
  const int repeats = flags.quick ? 3 : (device.is_cpu() ? 5 : 100);
  // The copy ceiling on a GPU uses 1 GiB buffers (far past its L2), at least the largest size.
  const int64_t copy_n =
      device.is_cuda() && !flags.quick ? std::max<int64_t>(sizes.back(), 1 << 28) : sizes.back();
  const double copy_bw = copy_bandwidth(device, copy_n, repeats);
  if (!flags.json) {
    std::printf("%s: copy bandwidth %.1f GB/s (read + write)\n", device.str().c_str(),
                copy_bw / 1e9);
    std::printf("%-8s %-16s %11s %12s %10s %9s\n", "device", "kernel", "elements", "ms", "GB/s",
                "of copy");
  }
  NoGradGuard no_grad;
  const TensorOptions f32 = TensorOptions(DType::Float32).device(device);
  for (int64_t n : sizes) {
    Generator gen(1);
    const Tensor p = randn({n}, f32, &gen), g = randn({n}, f32, &gen);
    const Tensor p0 = p.clone(), s1 = zeros({n}, f32), s2 = zeros({n}, f32);
    // Every row starts from p as drawn and zero optimizer state, and must end finite: rows
    // once shared s1, so AdaGrad summed Adam's negative m, sqrt gave NaN, and the clipped
    // Adam row after it ran 10% slow on the division's NaN path (bench/NOTES.md).
    auto run = [&](const char* name, double bytes_per_element, const std::function<void()>& f) {
      Tensor(p).copy_(p0);
      Tensor(s1).fill_(0.0);
      Tensor(s2).fill_(0.0);
      const double seconds = median_seconds(device, repeats, f);
      for (const Tensor* t : {&p, &s1, &s2}) {
        const double size = sum(abs(*t)).item<float>();
        TG_CHECK(std::isfinite(size), "bench_kernels: ", name, " left non-finite values");
      }
      print(flags, {device.str(), name, n, seconds, bytes_per_element * n}, copy_bw);
    };
    // Step 11 of each optimizer: the per-step constants come from the device step count.
    const Tensor taken = full({}, 10.0, TensorOptions(DType::Int64).device(device));
    optim::AdamParams adam;
    run("adam", 28, [&] { adam_update_(p, g, s1, s2, Tensor(), adam, taken); });
    optim::AdamParams adamw = adam;
    adamw.regularization.decoupled_weight_decay = 0.01;
    run("adamw", 28, [&] { adam_update_(p, g, s1, s2, Tensor(), adamw, taken); });
    optim::RMSpropParams rms;
    run("rmsprop", 20, [&] { rmsprop_update_(p, g, s1, Tensor(), Tensor(), rms); });
    optim::SGDParams sgd;
    sgd.momentum = 0.9;
    run("sgd_momentum", 20, [&] { sgd_update_(p, g, s1, sgd, taken); });
    optim::AdagradParams adagrad;
    run("adagrad", 20, [&] { adagrad_update_(p, g, s1, adagrad, taken); });
    // The clip state is made once and reused, as Optimizer::clip_grad_norm does.
    ClipState clip;
    run("global_norm", 4, [&] { global_grad_norm_({g}, 1.0, clip); });
    // Full reductions: one long row, cut into chunks (Note [long rows], kernels/reduce.h).
    run("sum_full", 4, [&] { sum(g); });
    run("max_full", 4, [&] { max(g); });
    run("clip_adam", 32, [&] {
      global_grad_norm_({g}, 1.0, clip);
      adam_update_(p, g, s1, s2, Tensor(), adam, taken, &clip);
    });
    // History-based clipping adds one one-block launch to clip_adam (a window of 1000 norms).
    ClipHistory history = make_clip_history({}, device);
    run("clip_auto_adam", 32, [&] {
      global_grad_norm_({g}, 0.0, clip);
      history_clip_(clip, history, {});
      adam_update_(p, g, s1, s2, Tensor(), adam, taken, &clip);
    });
    // Unit-wise adaptive clipping over units of 1024 (Linear rows): a step where no unit
    // clips reads weights and gradients (8 B); one where every unit clips also writes the
    // gradients, timed after a copy that restores them (8 + 12 B).
    std::vector<int64_t> starts;
    for (int64_t u = 0; u <= n / 1024; ++u) starts.push_back(u * 1024);
    const Tensor units = from_vector(starts).to(device), g_work = empty({n}, f32);
    run("agc_within", 8, [&] { unit_clip_(p, g, units, optim::UnitClip{1e6, 1e-3}); });
    run("copy_agc_clip", 20, [&] {
      Tensor(g_work).copy_(g);
      unit_clip_(p, g_work, units, optim::UnitClip{0.01, 1e-3});
    });
    // Dropout's backward is the same kernel on the gradient (Note [dropout RNG]).
    run("dropout_fwd", 8, [&] { dropout(p, 0.1, true, &gen); });
    run("dropout_bwd", 8, [&] { dropout(g, 0.1, true, &gen); });
    // BatchNorm2d-like: C = 64 channels of 32x32.
    const int64_t c = 64, hw = 32 * 32, batch = std::max<int64_t>(n / (c * hw), 1);
    const Tensor x = p.slice(0, 0, batch * c * hw).view({batch, c, 32, 32});
    const Tensor dy = g.slice(0, 0, batch * c * hw).view({batch, c, 32, 32});
    const Tensor gamma = ones({c}, f32), beta = zeros({c}, f32), rm = zeros({c}, f32),
                 rv = ones({c}, f32);
    const int64_t m = batch * c * hw;
    const Tensor mean = empty({c}, f32), invstd = empty({c}, f32), y = empty({m}, f32);
    const kernels::BatchNormShape shape{batch, c, hw};
    const kernels::BatchNormForwardArgs fwd{DType::Float32,
                                            shape,
                                            x.raw_data_ptr(),
                                            gamma.raw_data_ptr(),
                                            beta.raw_data_ptr(),
                                            y.raw_data_ptr(),
                                            true,
                                            rm.raw_data_ptr(),
                                            rv.raw_data_ptr(),
                                            mean.raw_data_ptr(),
                                            invstd.raw_data_ptr(),
                                            0.1,
                                            1e-5};
    const kernels::BatchNormBackwardArgs bwd{DType::Float32,        shape,
                                             x.raw_data_ptr(),      dy.raw_data_ptr(),
                                             gamma.raw_data_ptr(),  mean.raw_data_ptr(),
                                             invstd.raw_data_ptr(), true,
                                             y.raw_data_ptr(),      s1.raw_data_ptr(),
                                             s2.raw_data_ptr()};
    [[maybe_unused]] const kernels::ScratchAllocator scratch = ops::scratch_allocator(device);
    print(flags,
          {device.str(), "batchnorm_fwd", m,
           median_seconds(device, repeats,
                          [&] {
                            TG_ON_DEVICE(device, kernels::cpu::batchnorm_forward(fwd), stream,
                                         kernels::cuda::batchnorm_forward(fwd, stream, scratch));
                          }),
           8.0 * m},
          copy_bw);
    print(flags,
          {device.str(), "batchnorm_bwd", m,
           median_seconds(device, repeats,
                          [&] {
                            TG_ON_DEVICE(device, kernels::cpu::batchnorm_backward(bwd), stream,
                                         kernels::cuda::batchnorm_backward(bwd, stream, scratch));
                          }),
           12.0 * m},
          copy_bw);
  }
}

}  // namespace
}  // namespace tg::bench

int main(int argc, char** argv) {
  tg::use_openmp_spin_policy(argv);  // Note [OpenMP wait policy] in core/threads.h
  using namespace tg;
  const bench::Flags flags =
      bench::parse_flags(argc, argv, "bench_kernels [--json] [--quick] [--cuda-only]");
  try {
    if (!flags.cuda_only) bench::bench_device(flags, Device::cpu());
    for (int i = 0; i < cuda_device_count(); ++i) bench::bench_device(flags, Device::cuda(i));
  } catch (const Error& e) {
    std::fprintf(stderr, "bench_kernels: %s\n", e.what());
    return 1;
  }
  return 0;
}
