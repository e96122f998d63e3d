// safetensors files: round trips of every dtype, 0-d and empty tensors, dotted and
// unicode names; a corpus of malformed files, each rejected naming the field; and the
// crash test of Note [atomic save]: a child killed at every point of a save leaves the
// old or the new file, complete.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "../../core/factory.h"
#include "../../core/safetensors.h"
#include "../../core/safetensors_hook.h"
#include "../support/parity.h"
#include "../support/scratch_dir.h"

namespace tg::testing {
namespace {

NamedTensors every_kind() {
  Generator g(9);
  return {{"features.0.weight", randn({4, 1, 3, 3}, DType::Float32, &g)},
          {"features.1.running_var", rand({4}, DType::Float64, &g)},
          {"features.1.num_batches_tracked", full({}, 17.0, DType::Int64)},
          {"labels", from_vector<int64_t>({3, -1, 9})},
          {"image", from_vector<int64_t>({0, 255, 128, 7, 1, 2}, {2, 3}).to(DType::UInt8)},
          {"empty", zeros({0, 5})},
          {"scalar", full({}, 2.5, DType::Float32)},
          {"gewichte.λ.ü", randn({3}, DType::Float64, &g)}};
}

void expect_same(const NamedTensors& got, const NamedTensors& expected) {
  ASSERT_EQ(got.size(), expected.size());
  for (const auto& [name, t] : expected) {
    const Tensor g = find_state(got, name);
    ASSERT_TRUE(g.defined()) << name;
    EXPECT_TRUE(tensors_bitwise_equal(g, t)) << name;
  }
}

TEST(Safetensors, EveryDtypeAndShapeRoundTrips) {
  const ScratchDir scratch;
  const std::string path = scratch.file("model.safetensors");
  const Metadata metadata{{"format", "pt"}, {"note", "ünïcode ✓"}};
  save_safetensors(path, every_kind(), metadata);
  const SafetensorsContents read = load_safetensors(path);
  expect_same(read.tensors, every_kind());
  EXPECT_EQ(read.metadata, metadata);
  // Each tensor's data starts aligned to its element size: widest first, in data order.
  for (size_t i = 1; i < read.tensors.size(); ++i) {
    EXPECT_GE(element_size(read.tensors[i - 1].second.dtype()),
              element_size(read.tensors[i].second.dtype()))
        << read.tensors[i].first;
  }
  const std::string bytes = serialize_safetensors(every_kind(), metadata);
  uint64_t header = 0;
  for (int i = 0; i < 8; ++i) header |= uint64_t(uint8_t(bytes[i])) << (8 * i);
  EXPECT_EQ(header % 8, 0u) << "data section 8-byte aligned";
  std::remove(path.c_str());
}

TEST(Safetensors, SavingRefusesBadNamesAndKeepsTheOldFile) {
  const ScratchDir scratch;
  const std::string path = scratch.file("keep.safetensors");
  save_safetensors(path, {{"a", ones({2})}});
  EXPECT_NE(error_of([&] {
              save_safetensors(path, {{"a", ones({2})}, {"a", ones({3})}});
            }).find("safetensors: tensor name 'a' given twice"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              save_safetensors(path, {{"", ones({2})}});
            }).find("tensor name '' is not allowed"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              save_safetensors("/nonexistent-dir/x.safetensors", {});
            }).find("cannot create '/nonexistent-dir/x.safetensors.tmp."),
            std::string::npos);
  expect_same(load_safetensors(path).tensors, {{"a", ones({2})}});
}

// A small valid file's bytes, and helpers that rewrite its header.
std::string valid_file() {
  return serialize_safetensors(
      {{"w", from_vector<float>({1, 2, 3, 4}, {2, 2})}, {"b", from_vector<float>({5, 6})}});
}

std::string with_header(const std::string& header_json, const std::string& data) {
  std::string out(8, '\0');
  const uint64_t n = header_json.size();
  for (int i = 0; i < 8; ++i) out[i] = char((n >> (8 * i)) & 0xFF);
  return out + header_json + data;
}

const std::string kData(24, '\1');  // w: 16 bytes, b: 8 bytes

struct Malformed {
  std::string what;
  std::string bytes;
  std::string message;  // a part the error must contain
};

std::vector<Malformed> corpus() {
  std::vector<Malformed> out;
  const std::string good = valid_file();
  // Truncated at every byte.
  for (size_t n = 0; n < good.size(); ++n) {
    out.push_back(
        {"truncated at " + std::to_string(n), good.substr(0, n), n < 8 ? "is too short" : ""});
  }
  const std::string w = R"("w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]})";
  const std::string b = R"("b":{"dtype":"F32","shape":[2],"data_offsets":[16,24]})";
  auto file = [&](const std::string& entries, const std::string& data = kData) {
    return with_header("{" + entries + "}", data);
  };
  std::string huge(8, '\xff');
  out.push_back({"huge header length", huge + "{}", "is over the limit"});
  std::string past(8, '\0');
  past[0] = 100;
  out.push_back({"header past the end", past + "{}", "runs past the end of the file"});
  out.push_back({"invalid JSON", file(w + "," + b + ",,"), "header is not valid JSON"});
  out.push_back({"not an object", with_header("[1,2]", ""), "header must be a JSON object"});
  out.push_back({"unknown dtype",
                 file(R"("w":{"dtype":"F8_E4M3","shape":[2,2],"data_offsets":[0,16]})" +
                      std::string(",") + b),
                 "tensor 'w': 'dtype' \"F8_E4M3\" is not one tamegrad has"});
  out.push_back(
      {"dtype not a string",
       file(R"("w":{"dtype":3,"shape":[2,2],"data_offsets":[0,16]})" + std::string(",") + b),
       "'dtype' must be a string"});
  out.push_back(
      {"negative shape",
       file(R"("w":{"dtype":"F32","shape":[-2,2],"data_offsets":[0,16]})" + std::string(",") + b),
       "tensor 'w': 'shape' must hold non-negative integers, got -2"});
  out.push_back(
      {"fractional shape",
       file(R"("w":{"dtype":"F32","shape":[2.5,2],"data_offsets":[0,16]})" + std::string(",") + b),
       "'shape' must hold non-negative integers"});
  out.push_back({"overflowing shape",
                 file(R"("w":{"dtype":"F32","shape":[4294967296,2],"data_offsets":[0,16]})" +
                      std::string(",") + b),
                 "needs more bytes than the data section holds"});
  out.push_back(
      {"shape past uint64",
       file(R"("w":{"dtype":"F32","shape":[99999999999999999999999],"data_offsets":[0,16]})" +
            std::string(",") + b),
       "'shape' must hold non-negative integers"});
  out.push_back({"too many dims",
                 file(R"("w":{"dtype":"F32","shape":[1,1,1,1,1,1,1,1,1,4],"data_offsets":[0,16]})" +
                      std::string(",") + b),
                 "'shape' has more than 8 dims; at most 8"});
  out.push_back(
      {"shape and span disagree",
       file(R"("w":{"dtype":"F32","shape":[2,3],"data_offsets":[0,16]})" + std::string(",") + b),
       "tensor 'w': 'data_offsets' span 16 bytes but 'shape' [2,3] of float32 needs 24"});
  out.push_back(
      {"offsets reversed",
       file(R"("w":{"dtype":"F32","shape":[0],"data_offsets":[16,0]})" + std::string(",") + b),
       "ends before it begins"});
  out.push_back({"offsets out of range",
                 file(w + "," + R"("b":{"dtype":"F32","shape":[2],"data_offsets":[24,32]})"),
                 "tensor 'b': 'data_offsets' value 32 is too large"});
  out.push_back({"overlapping offsets",
                 file(w + "," + R"("b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]})"),
                 "overlaps the tensor before it"});
  out.push_back(
      {"gap between tensors",
       file(R"("w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]})" + std::string(",") + b),
       "tensor 'b' 'data_offsets' [16, 24] leaves a gap"});
  out.push_back(
      {"offsets with three values",
       file(R"("w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,8,16]})" + std::string(",") + b),
       "'data_offsets' must be [begin, end]"});
  out.push_back(
      {"offsets not an array",
       file(R"("w":{"dtype":"F32","shape":[2,2],"data_offsets":"0-16"})" + std::string(",") + b),
       "'data_offsets' must be an array"});
  out.push_back({"missing field",
                 file(R"("w":{"dtype":"F32","shape":[2,2]})" + std::string(",") + b),
                 "tensor 'w': needs 'dtype', 'shape' and 'data_offsets'"});
  out.push_back({"unknown field",
                 file(R"("w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16],"x":1})" +
                      std::string(",") + b),
                 "tensor 'w': unknown field 'x'"});
  out.push_back({"entry not an object", file(R"("w":[1])" + std::string(",") + b),
                 "tensor 'w': must be an object"});
  out.push_back(
      {"duplicate names",
       file(w + "," + b + "," + R"("w":{"dtype":"F32","shape":[0],"data_offsets":[24,24]})"),
       "tensor name 'w' appears twice"});
  out.push_back({"trailing garbage", file(w + "," + b, kData + "xyz"), "3 trailing bytes"});
  out.push_back({"data missing", file(w + "," + b, std::string(20, '\0')),
                 "'data_offsets' value 24 is too large"});
  out.push_back({"metadata not strings", file(w + "," + b + R"(,"__metadata__":{"a":1})"),
                 "'__metadata__' value of 'a' must be a string"});
  out.push_back({"metadata not an object", file(w + "," + b + R"(,"__metadata__":"x")"),
                 "'__metadata__' must be an object of strings"});
  out.push_back(
      {"too deep",
       file(R"("w":{"dtype":"F32","shape":[[[2]]],"data_offsets":[0,16]})" + std::string(",") + b),
       "header nests deeper than a safetensors header can"});
  out.push_back(
      {"invalid UTF-8 name", file(w + "," + b + ",\"\xff\xfe\":{}"), "header is not valid JSON"});
  return out;
}

TEST(Safetensors, MalformedFilesAreRejectedNamingTheField) {
  const std::vector<Malformed> cases = corpus();
  EXPECT_GE(cases.size(), 60u);
  EXPECT_NO_THROW(parse_safetensors("good", valid_file()));
  EXPECT_NO_THROW(parse_safetensors(
      "good",
      with_header(
          "{" +
              std::string(
                  R"("w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},"b":{"dtype":"F32","shape":[2],"data_offsets":[16,24]})") +
              "}",
          kData)));
  for (const Malformed& m : cases) {
    SCOPED_TRACE(m.what);
    const std::string message = error_of([&] { parse_safetensors("bad.safetensors", m.bytes); });
    EXPECT_EQ(message.find("bad.safetensors: "), 0u) << message;
    EXPECT_NE(message.find(m.message), std::string::npos) << message;
  }
}

// ---- the crash test ----

int64_t kill_at = -1;
void kill_here(int64_t point) {
  if (point == kill_at) ::raise(SIGKILL);
}

TEST(Safetensors, AKilledSaveLeavesTheOldOrTheNewFileComplete) {
  const ScratchDir scratch;
  const std::string path = scratch.file("ckpt.safetensors");
  const NamedTensors old_state{{"w", full({1000}, 1.0, DType::Float64)}};
  const NamedTensors new_state{{"w", full({1000}, 2.0, DType::Float64)},
                               {"extra", full({3000}, 3.0, DType::Float32)}};
  save_safetensors(path, old_state);
  // ~20 KB in 96-byte chunks: ~210 write points, then fsync, rename, directory fsync.
  const int64_t points =
      static_cast<int64_t>(serialize_safetensors(new_state).size() + 95) / 96 + 3;
  ASSERT_GE(points, 200);
  int old_seen = 0, new_seen = 0;
  for (int64_t at = 0; at <= points; ++at) {
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      kill_at = at;
      detail::set_save_hook(kill_here, 96);
      try {
        save_safetensors(path, new_state);
      } catch (...) {
        ::_exit(3);
      }
      ::_exit(0);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    const bool killed = WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
    EXPECT_TRUE(killed || (WIFEXITED(status) && WEXITSTATUS(status) == 0 && at == points))
        << "point " << at;
    const NamedTensors now = load_safetensors(path).tensors;  // throws if corrupt
    if (now.size() == 1) {
      expect_same(now, old_state);
      ++old_seen;
    } else {
      expect_same(now, new_state);
      ++new_seen;
      save_safetensors(path, old_state);  // back to the old one for the next kill
    }
  }
  EXPECT_EQ(new_seen, 3) << "renamed: killed after the rename, after the directory's fsync, "
                            "and not killed";
  EXPECT_EQ(old_seen, points + 1 - 3);
  // Every killed save left its temporary; the saves that followed removed them all.
  const std::string dir = path.substr(0, path.rfind('/'));
  EXPECT_EQ(std::system(("test -z \"$(ls '" + dir + "' | grep -F .tmp.)\"").c_str()), 0)
      << "temporaries left in " << dir;
}

}  // namespace
}  // namespace tg::testing
