// Initialisers (PyTorch's torch.nn.init): each fills a tensor in place, without recording
// history, from the generator of the tensor's device (or the one given), so a seed gives
// the same model on the CPU and on a GPU.
//   Xavier/Glorot: std = gain·sqrt(2 / (fan_in + fan_out))          (Glorot & Bengio 2010)
//   Kaiming/He:    std = gain / sqrt(fan)                           (He et al. 2015)
//   LeCun:         std = 1 / sqrt(fan_in)                           (LeCun et al. 1998)
//   orthogonal:    Q of the QR of a normal matrix, signs fixed      (Saxe et al. 2014)
// A uniform draw with that std has bound sqrt(3)·std. fan_in = size(1)·receptive field,
// fan_out = size(0)·receptive field, as PyTorch computes them.
#pragma once

#include <utility>

#include "../core/generator.h"
#include "../core/tensor.h"
#include "../foundation/config.h"

TG_API_BEGIN

namespace tg::layers::init {

enum class Nonlinearity { Linear, Conv, Sigmoid, Tanh, ReLU, LeakyReLU, SELU };
enum class FanMode { FanIn, FanOut };

// PyTorch's calculate_gain; `param` is LeakyReLU's negative slope (default 0.01).
double calculate_gain(Nonlinearity nonlinearity, double param = 0.01);
// (fan_in, fan_out) of a weight of 2 or more dimensions.
std::pair<int64_t, int64_t> fans(const Tensor& weight);

void uniform_(const Tensor& t, double low, double high, Generator* generator = nullptr);
void normal_(const Tensor& t, double mean, double std, Generator* generator = nullptr);
void constant_(const Tensor& t, double value);
void zeros_(const Tensor& t);
void ones_(const Tensor& t);

void xavier_uniform_(const Tensor& t, double gain = 1, Generator* generator = nullptr);
void xavier_normal_(const Tensor& t, double gain = 1, Generator* generator = nullptr);
// `a` is LeakyReLU's negative slope, used when nonlinearity is LeakyReLU (PyTorch's defaults).
void kaiming_uniform_(const Tensor& t, double a = 0, FanMode mode = FanMode::FanIn,
                      Nonlinearity nonlinearity = Nonlinearity::LeakyReLU,
                      Generator* generator = nullptr);
void kaiming_normal_(const Tensor& t, double a = 0, FanMode mode = FanMode::FanIn,
                     Nonlinearity nonlinearity = Nonlinearity::LeakyReLU,
                     Generator* generator = nullptr);
void lecun_uniform_(const Tensor& t, Generator* generator = nullptr);
void lecun_normal_(const Tensor& t, Generator* generator = nullptr);
// t viewed as (size(0), numel / size(0)) gets orthonormal rows or columns (whichever are
// fewer), times gain.
void orthogonal_(const Tensor& t, double gain = 1, Generator* generator = nullptr);

// PyTorch's default for Linear and convolution layers (reset_parameters): the weight from
// kaiming_uniform_ with a = sqrt(5), i.e. U(±1/sqrt(fan_in)), and the bias (if defined)
// from U(±1/sqrt(fan_in)) with the weight's fan_in.
void layer_default_(const Tensor& weight, const Tensor& bias, Generator* generator = nullptr);

}  // namespace tg::layers::init

TG_API_END
