// safetensors reading at its limits and where readers could disagree (Note [validating
// reads], Note [atomic save]): a header of 200,000 tensors read in linear time, the tensor
// and header-size caps, a byte-order mark and a repeated field refused as Python's
// safetensors refuses them, a repeated metadata key resolved as Python resolves it, shapes
// whose strides overflow, files that are not regular files, and the temporaries of killed
// saves removed by the next save.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>

#include "../../core/factory.h"
#include "../../core/safetensors.h"
#include "../support/parity.h"
#include "../support/scratch_dir.h"

namespace tg::testing {
namespace {

std::string with_header(const std::string& header_json, const std::string& data = "") {
  std::string out(8, '\0');
  const uint64_t n = header_json.size();
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((n >> (8 * i)) & 0xFF);
  return out + header_json + data;
}

// n empty U8 tensors, "t0" .. "t<n-1>".
std::string empty_tensors(size_t n) {
  std::string header = "{";
  for (size_t i = 0; i < n; ++i) {
    header += (i ? ",\"t" : "\"t") + std::to_string(i) +
              R"(":{"dtype":"U8","shape":[0],"data_offsets":[0,0]})";
  }
  return with_header(header + "}");
}

// The callback parser used before took 71 s for 80,000 tensors and over a minute for
// 200,000; a linear parser takes well under a second. The bound only catches a return of the
// quadratic behaviour, it measures nothing.
TEST(SafetensorsLimits, TwoHundredThousandTensorsParseInLinearTime) {
  const std::string bytes = empty_tensors(200000);
  const auto start = std::chrono::steady_clock::now();
  const SafetensorsContents read = parse_safetensors("many", bytes);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(read.tensors.size(), 200000u);
  EXPECT_LT(seconds, 20.0);
}

TEST(SafetensorsLimits, TheTensorCountAndTheHeaderSizeAreCapped) {
  const std::string m = error_of([] { parse_safetensors("f", empty_tensors(1000001)); });
  EXPECT_NE(m.find("f: the header holds more than 1000000 tensors"), std::string::npos) << m;
  // Python's limit is 100,000,000 bytes, not 100 MiB: a length in between is refused.
  std::string length(8, '\0');
  const uint64_t n = 100000001;
  for (int i = 0; i < 8; ++i) length[i] = static_cast<char>((n >> (8 * i)) & 0xFF);
  EXPECT_NE(error_of([&] {
              parse_safetensors("f", length + "{}");
            }).find("header length 100000001 is over the limit of 100000000 bytes"),
            std::string::npos);
}

TEST(SafetensorsLimits, WhatPythonsSafetensorsRefusesIsRefused) {
  const std::string entry = R"("w":{"dtype":"U8","shape":[2],"data_offsets":[0,2]})";
  EXPECT_NO_THROW(parse_safetensors("f", with_header("{" + entry + "}", "ab")));
  std::string m =
      error_of([&] { parse_safetensors("f", with_header("\xEF\xBB\xBF{" + entry + "}", "ab")); });
  EXPECT_NE(m.find("f: header starts with a UTF-8 byte-order mark"), std::string::npos) << m;
  m = error_of([] {
    parse_safetensors(
        "f", with_header(R"({"w":{"dtype":"U8","dtype":"F32","shape":[2],"data_offsets":[0,2]}})",
                         "ab"));
  });
  EXPECT_NE(m.find("f: tensor 'w': field 'dtype' appears twice"), std::string::npos) << m;
  m = error_of([] {
    parse_safetensors(
        "f",
        with_header(R"({"w":{"dtype":"U8","shape":[2],"data_offsets":[0,2],"shape":[1]}})", "ab"));
  });
  EXPECT_NE(m.find("field 'shape' appears twice"), std::string::npos) << m;
  // A repeated metadata key keeps its last value, as in Python (a map filled in order).
  const SafetensorsContents read = parse_safetensors(
      "f", with_header("{" + entry + R"(,"__metadata__":{"k":"first","a":"x","k":"last"}})", "ab"));
  EXPECT_EQ(read.metadata, (Metadata{{"a", "x"}, {"k", "last"}}));
}

// Found by fuzzing: a shape with a 0 dimension has no elements, but the strides of its other
// dimensions overflowed int64 (undefined behaviour in contiguous_strides).
TEST(SafetensorsLimits, AShapeWhoseStridesOverflowIsRefused) {
  const std::string m = error_of([] {
    parse_safetensors(
        "f", with_header(
                 R"({"w":{"dtype":"U8","shape":[0,4611686018427387904,4],"data_offsets":[0,0]}})"));
  });
  EXPECT_NE(m.find("f: tensor 'w': 'shape' [0,4611686018427387904,4] is too large: its strides "
                   "overflow 64 bits"),
            std::string::npos)
      << m;
  EXPECT_NE(error_of([] {
              contiguous_strides({0, int64_t{1} << 40, int64_t{1} << 40});
            }).find("overflow 64 bits"),
            std::string::npos);
  EXPECT_EQ(contiguous_strides({int64_t{1} << 40, 0, int64_t{1} << 20}),
            (Shape{int64_t{1} << 20, int64_t{1} << 20, 1}));
}

TEST(SafetensorsLimits, OnlyRegularFilesAreRead) {
  const ScratchDir scratch;
  const std::string& dir = scratch.path();
  ASSERT_EQ(::mkfifo((dir + "/fifo").c_str(), 0600), 0);
  EXPECT_NE(error_of([&] { load_safetensors(dir + "/fifo"); }).find("is not a regular file"),
            std::string::npos);
  EXPECT_NE(error_of([&] { load_safetensors(dir); }).find("is a directory"), std::string::npos);
}

// A pid that no process has now.
pid_t finished_pid() {
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  ::waitpid(child, nullptr, 0);
  return child;
}

TEST(SafetensorsLimits, ASaveRemovesTheTemporariesOfKilledSavesOfTheSameTarget) {
  const ScratchDir scratch;
  const std::string& dir = scratch.path();
  const std::string target = dir + "/ckpt.safetensors";
  const std::string dead = target + ".tmp." + std::to_string(finished_pid()) + ".3";
  const std::string live = target + ".tmp." + std::to_string(::getpid()) + ".999";
  const std::string other = dir + "/other.safetensors.tmp." + std::to_string(finished_pid()) + ".0";
  for (const std::string& path : {dead, live, other}) {
    std::FILE* f = std::fopen(path.c_str(), "w");
    std::fputs("half a file", f);
    std::fclose(f);
  }
  save_safetensors(target, {{"w", ones({3})}});
  struct stat info {};
  EXPECT_NE(::stat(dead.c_str(), &info), 0) << "a dead process's temporary is removed";
  EXPECT_EQ(::stat(live.c_str(), &info), 0) << "a live process's temporary is kept";
  EXPECT_EQ(::stat(other.c_str(), &info), 0) << "another target's temporary is kept";
}

}  // namespace
}  // namespace tg::testing
