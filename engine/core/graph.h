// A small reverse-mode autograd graph over Tensors.
//
// A Var is a handle to a value, its gradient and the Node that made it. A Node records one op:
// its inputs, its (possibly several) outputs and a backward function. backward() sorts the
// nodes with an iterative depth-first search (an unrolled 370-step LSTM is deep; recursion
// would overflow), then runs each node once, in reverse order.
//
// Gradient rules, in one place:
//  - Within one backward pass every consumer ADDS its contribution: a backward function
//    accumulates into the tensors GradInputs hands it, which start at zero.
//  - Leaf gradients (parameters) keep accumulating across backward() calls until zero_grad(),
//    as in PyTorch; the trainer zeroes them before every step.
//  - Gradients of intermediate values are freed as soon as their node has run, and the graph
//    (its saved tensors) is released after backward() unless retain_graph is set.
//  - In no-grad mode (NoGradGuard), ops record nothing: inference keeps no saved tensors.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "engine/core/tensor.h"

namespace ember::ag {

struct Node;

struct VarImpl {
  Tensor value;
  Tensor grad;  // undefined until a gradient arrives
  bool requires_grad = false;
  std::shared_ptr<Node> creator;  // null for leaves
  int output_index = 0;
};

class Var {
 public:
  Var() = default;
  explicit Var(Tensor value, bool requires_grad = false);
  explicit Var(std::shared_ptr<VarImpl> p) : p_(std::move(p)) {}

  bool defined() const { return p_ != nullptr; }
  const Tensor& value() const { return p_->value; }
  Tensor& mutable_value() { return p_->value; }  // optimizers update parameters in place
  const Tensor& grad() const { return p_->grad; }
  Tensor& mutable_grad() { return p_->grad; }
  bool requires_grad() const { return p_ && p_->requires_grad; }
  bool is_leaf() const { return !p_->creator; }
  const Shape& shape() const { return p_->value.shape(); }
  const std::shared_ptr<VarImpl>& impl() const { return p_; }

  // Backpropagates from this scalar (numel 1) with seed gradient 1, or from any shape with
  // an explicit seed gradient of the same shape.
  void backward(bool retain_graph = false) const;
  void backward(const Tensor& seed, bool retain_graph = false) const;
  void zero_grad() { p_->grad = Tensor(); }

 private:
  std::shared_ptr<VarImpl> p_;
};

// What a backward function writes into: one accumulator per op input. get(i) is null when
// input i needs no gradient (so the op can skip that work); otherwise a tensor of the input's
// shape, zero the first time, to which the function adds.
class GradInputs {
 public:
  explicit GradInputs(const std::vector<std::shared_ptr<VarImpl>>& inputs) : inputs_(inputs) {}
  bool needed(size_t i) const { return inputs_[i]->requires_grad; }
  Tensor* get(size_t i);

 private:
  const std::vector<std::shared_ptr<VarImpl>>& inputs_;
};

// d_out[k] is the gradient of output k, or null when nothing downstream used output k.
using BackwardFn = std::function<void(const std::vector<const Tensor*>& d_out, GradInputs& d_in)>;

struct Node {
  std::string name;
  std::vector<std::shared_ptr<VarImpl>> inputs;
  std::vector<std::weak_ptr<VarImpl>> outputs;  // weak: outputs own their node, not vice versa
  BackwardFn backward;

  // Frees the chain of nodes only this one keeps alive without recursing: a graph as deep as
  // backward() walks iteratively would otherwise overflow the stack when its last Var goes.
  ~Node();
};

// Wraps an op's outputs in Vars and, when grad mode is on and any input requires grad,
// records a Node that will call `backward`. Tensors the backward needs are captured by the
// lambda (save the fewest: activations rather than pre-activations where that suffices).
std::vector<Var> record(const char* name, const std::vector<Var>& inputs,
                        std::vector<Tensor> outputs, BackwardFn backward);
Var record1(const char* name, const std::vector<Var>& inputs, Tensor output, BackwardFn backward);

bool grad_enabled();

// Disables recording for its lifetime (inference, evaluation, optimizer updates).
class NoGradGuard {
 public:
  NoGradGuard();
  ~NoGradGuard();
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool prev_;
};

// Number of nodes reachable from v (for tests and diagnostics); iterative like backward().
size_t graph_size(const Var& v);

}  // namespace ember::ag
