#!/usr/bin/python3
"""Golden values for the recurrent layers and cells (issue 31), from PyTorch's nn.RNN, LSTM,
GRU, RNNCell, LSTMCell and GRUCell in float64.

Each file holds the module's state_dict under PyTorch's own names (the C++ test loads it
strictly into our module), the inputs x, h0 and c0 (when given), an upstream gradient for
each output (grad_output, grad_h_n, grad_c_n), PyTorch's outputs, and the gradients of the
inputs and of every parameter (grad_<name>) from backward through time of
sum(output·grad_output) + sum(h_n·grad_h_n) + sum(c_n·grad_c_n). Same format as
make_golden.py. Run with Debian's Python: /usr/bin/python3 tests/golden/make_recurrent_golden.py
"""
import torch

from make_golden import write


def golden_case(name, module, x, h0=None, c0=None, sequence=True):
    """A sequence layer returns (output, h_n) or (output, (h_n, c_n)); a cell h' or (h', c')."""
    module = module.double()
    inputs = {"x": x.double().requires_grad_()}
    for key, value in (("h0", h0), ("c0", c0)):
        if value is not None:
            inputs[key] = value.double().requires_grad_()
    state = (inputs["h0"], inputs["c0"]) if c0 is not None else inputs.get("h0")
    result = module(inputs["x"]) if state is None else module(inputs["x"], state)
    outputs = {}
    if sequence:
        outputs["output"], result = result
    if isinstance(result, tuple):
        outputs["h_n"], outputs["c_n"] = result
    else:
        outputs["h_n"] = result
    data = dict(module.state_dict())
    data.update(inputs)
    loss = 0
    for key, value in outputs.items():
        g = torch.randn_like(value)
        data["grad_" + key] = g
        loss = loss + (value * g).sum()
    loss.backward()
    data.update(outputs)
    for key, value in inputs.items():
        data["grad_" + key] = value.grad
    for key, p in module.named_parameters():
        data["grad_" + key] = p.grad
    write(name, data)


def main():
    torch.manual_seed(3131)
    nn = torch.nn
    golden_case("rnn_tanh_2layers", nn.RNN(3, 4, num_layers=2), torch.randn(5, 2, 3),
                  torch.randn(2, 2, 4))
    golden_case("rnn_relu_batch_first", nn.RNN(3, 4, nonlinearity="relu", batch_first=True),
                  torch.randn(2, 6, 3))
    golden_case("lstm_2layers", nn.LSTM(3, 5, num_layers=2), torch.randn(6, 3, 3),
                  torch.randn(2, 3, 5), torch.randn(2, 3, 5))
    golden_case("lstm_no_bias_batch_first", nn.LSTM(2, 3, bias=False, batch_first=True),
                  torch.randn(4, 3, 2))
    golden_case("lstm_long", nn.LSTM(2, 4), torch.randn(40, 2, 2))
    golden_case("gru_2layers", nn.GRU(4, 3, num_layers=2), torch.randn(7, 2, 4),
                  torch.randn(2, 2, 3))
    golden_case("gru_unbatched", nn.GRU(3, 4), torch.randn(5, 3), torch.randn(1, 4))
    golden_case("rnn_cell", nn.RNNCell(3, 4), torch.randn(2, 3), torch.randn(2, 4),
                sequence=False)
    golden_case("lstm_cell", nn.LSTMCell(3, 4), torch.randn(2, 3), torch.randn(2, 4),
                torch.randn(2, 4), sequence=False)
    golden_case("gru_cell_unbatched", nn.GRUCell(3, 4), torch.randn(3), torch.randn(4),
                sequence=False)


if __name__ == "__main__":
    main()
