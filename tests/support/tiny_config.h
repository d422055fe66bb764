// The tiny synthetic model the hardening and CLI tests and the fuzz targets share: 64 train /
// 32 validation / 32 test rows of maxlen 8, Embedding 48x4, LSTM 3, Dense 1 sigmoid. Header
// only and free of Catch2, so the fuzz targets (fuzz/) can include it.
#pragma once

#include <string>

namespace ember::test {

// Everything but the name and the train section.
inline const std::string kTinyModelYaml = R"(seed: 1
data:
  synthetic: {n_train: 64, n_val: 32, n_test: 32, maxlen: 8}
sequence: {maxlen: 8}
model:
  - Embedding: {input_dim: 48, output_dim: 4}
  - LSTM: {units: 3}
  - Dense: {units: 1, activation: sigmoid}
)";

// The whole config: adam, 2 epochs of batches of 16.
inline const std::string kTinyYaml =
    "name: tiny\n" + kTinyModelYaml +
    "train: {loss: binary_crossentropy, optimizer: adam, epochs: 2, batch_size: 16}\n";

}  // namespace ember::test
