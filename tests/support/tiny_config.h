// The tiny synthetic models the hardening and CLI tests and the fuzz targets share: 64 train /
// 32 validation / 32 test rows of maxlen 8, Embedding 48x4, LSTM 3, Dense 1 sigmoid; and a
// three-class one. Header only and free of Catch2, so the fuzz targets (fuzz/) can include it.
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

// A second shape of model: three classes, masking, a fitted tokenizer with an OOV token, post
// padding and truncating, a Bidirectional LSTM's sequence max-pooled; sgd with momentum.
inline const std::string kTinyMultiYaml = R"(name: multi
seed: 2
sequence: {maxlen: 6, padding: post, truncating: post}
tokenizer: {num_words: 20, oov_token: "<OOV>"}
data:
  synthetic: {n_train: 64, n_val: 32, n_test: 32, maxlen: 8}
model:
  - Embedding: {input_dim: 20, output_dim: 3, mask_zero: true}
  - Bidirectional: {layer: {LSTM: {units: 2, return_sequences: true}}}
  - GlobalMaxPooling1D: {}
  - Dense: {units: 3, activation: softmax}
train: {loss: sparse_categorical_crossentropy, optimizer: {name: sgd, momentum: 0.9}}
)";

}  // namespace ember::test
