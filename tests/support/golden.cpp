#include "golden.h"

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "../../core/factory.h"

namespace tg::testing {

std::map<std::string, Tensor> read_golden(const std::string& path) {
  std::ifstream in(path);
  TG_CHECK(in.good(), "golden: cannot open ", path);
  std::map<std::string, Tensor> tensors;
  std::string line;
  int line_number = 0;
  while (std::getline(in, line)) {
    ++line_number;
    if (line.empty() || line[0] == '#') continue;
    std::istringstream header(line);
    std::string word, name, dtype;
    int ndim = -1;
    header >> word >> name >> dtype >> ndim;
    TG_CHECK(word == "tensor" && ndim >= 0 && (dtype == "float64" || dtype == "int64"),
             "golden: ", path, ":", line_number,
             ": expected 'tensor NAME float64|int64 NDIM DIMS...'");
    Shape shape(ndim);
    for (int64_t& d : shape) header >> d;
    TG_CHECK(!header.fail(), "golden: ", path, ":", line_number, ": bad dims");
    TG_CHECK(std::getline(in, line), "golden: ", path, ": missing values of ", name);
    ++line_number;
    std::istringstream values(line);
    const int64_t n = shape_numel(shape);
    if (dtype == "float64") {
      // strtod, not >>: it reads Python's "nan", "inf" and "-inf" too.
      std::vector<double> v(n);
      for (double& x : v) {
        std::string word;
        values >> word;
        char* end = nullptr;
        x = std::strtod(word.c_str(), &end);
        TG_CHECK(!word.empty() && *end == '\0', "golden: ", path, ":", line_number, ": expected ",
                 n, " values, got '", word, "'");
      }
      tensors[name] = from_vector(v, shape);
    } else {
      std::vector<int64_t> v(n);
      for (int64_t& x : v) values >> x;
      TG_CHECK(!values.fail(), "golden: ", path, ":", line_number, ": expected ", n, " values");
      tensors[name] = from_vector(v, shape);
    }
  }
  return tensors;
}

}  // namespace tg::testing
