// Built against the installed package only: makes tensors, draws random numbers, checks
// the answers, and uses CUDA when this build and machine have it.
#include <tamegrad/tamegrad.h>

#include <cstdio>
#include <string>

// The consumer's own headers with tamegrad's names (tests/consumer/own/).
#include "core/device.h"
#include "core/tensor.h"
#include "kernels/common.h"
#include "optim/optimizer.h"

int main() {
  tg::Tensor a = tg::arange(6.0).view({2, 3});
  tg::Tensor t = a.transpose(0, 1).contiguous();
  const double corner = t.select(0, 2).select(0, 1).item<double>();  // a[1][2]
  tg::Generator gen(7);
  const tg::Tensor r = tg::rand({1000}, {}, &gen);
  std::printf("tamegrad %s consumer: %s\n", TAMEGRAD_VERSION, t.str().c_str());
  if (corner != 5.0) {
    std::printf("wrong element: %f\n", corner);
    return 1;
  }
  if (tg::cuda_is_available()) {
    tg::Generator gen_gpu(7);
    const tg::Tensor r_gpu = tg::rand({1000}, tg::Device::cuda(), &gen_gpu).to(tg::Device::cpu());
    for (int64_t i = 0; i < 1000; ++i) {
      if (r.data_ptr<float>()[i] != r_gpu.data_ptr<float>()[i]) {
        std::printf("CPU and CUDA draws differ at %lld\n", static_cast<long long>(i));
        return 1;
      }
    }
    std::printf("cuda: draws match the CPU\n");
  }
  // A few Adam steps of logistic regression through autograd and the installed optim headers.
  tg::Generator data(3);
  const tg::Tensor x = tg::randn({64, 5}, {}, &data);
  const tg::Tensor y = tg::uniform({64}, 0, 2, tg::DType::Float64, &data).to(tg::DType::Int64);
  tg::Tensor w = tg::zeros({2, 5}).requires_grad_();
  tg::optim::AdamParams hyper;
  hyper.lr = 0.1;
  tg::optim::Adam opt({w}, hyper);
  double first = 0, last = 0;
  for (int step = 0; step < 20; ++step) {
    opt.zero_grad();
    const tg::Tensor loss = tg::cross_entropy(tg::linear(x, w), y);
    loss.backward();
    opt.step();
    (step == 0 ? first : last) = loss.item<double>();
  }
  std::printf("training: loss %.4f -> %.4f\n", first, last);
  if (!(last < first)) return 1;
  // Function templates and the checkpoint format are exported too.
  const tg::Tensor labels = tg::from_vector<int64_t>({1, 0, 1});
  const std::string file = std::string(BUILD_DIR) + "/consumer_weights.safetensors";
  tg::save_safetensors(file, {{"w", w.detach()}, {"labels", labels}});
  const tg::SafetensorsContents back = tg::load_safetensors(file);
  if (back.tensors.size() != 2 || tg::find_state(back.tensors, "labels").numel() != 3) return 1;
  std::printf("safetensors: round trip of %zu tensors\n", back.tensors.size());
  const app::Device own_device;
  const app::Tensor own_tensor;
  const app::Optimizer own_optimizer;
  std::printf("own headers beside tamegrad's: %s, rank %d, lr %.1f, %d\n", own_device.name,
              own_tensor.rank, own_optimizer.lr, app::kCommon);
  std::printf("consumer OK (CUDA compiled: %s)\n", tg::cuda_compiled() ? "yes" : "no");
  return 0;
}
