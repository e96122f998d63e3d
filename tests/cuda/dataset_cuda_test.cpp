// A Dataset loader delivering to CUDA: host-prepared batches copied over and the resident
// mode (the dataset stacked on the device, batches gathered there) against the CPU loader,
// bit for bit, shuffled, with a partial last batch.
#include <gtest/gtest.h>

#include "../../core/factory.h"
#include "../../data/data.h"
#include "../support/parity.h"

namespace tg::data {
namespace {

TEST(DatasetCuda, HostAndResidentBatchesMatchTheCpuLoader) {
  TG_REQUIRE_CUDA();
  Generator g(2);
  auto dataset = std::make_shared<TensorDataset>(
      std::vector<Tensor>{randn({37, 3, 4}, DType::Float32, &g), zeros({37}, DType::Int64),
                          randn({37}, DType::Float64, &g)});
  LoaderOptions cpu;
  cpu.batch_size = 8;
  cpu.seed = 5;
  LoaderOptions host = cpu, resident = cpu;
  host.device = Device::cuda();
  resident.device = Device::cuda();
  resident.resident = true;
  DataLoader a(dataset, cpu), b(dataset, host), c(dataset, resident);
  for (DataLoader* l : {&a, &b, &c}) l->start_epoch(2);
  for (int64_t i = 0; i < a.batches(); ++i) {
    const Batch want = a.batch(i), got_host = b.batch(i), got_resident = c.batch(i);
    for (size_t k = 0; k < want.tensors.size(); ++k) {
      EXPECT_TRUE(
          testing::tensors_bitwise_equal(got_host.tensors[k].to(Device::cpu()), want.tensors[k]))
          << i << " " << k;
      EXPECT_TRUE(testing::tensors_bitwise_equal(got_resident.tensors[k].to(Device::cpu()),
                                                 want.tensors[k]))
          << i << " " << k;
    }
  }
}

}  // namespace
}  // namespace tg::data
