// Autograd graph: recording, iterative topological sort, backward. Rules in graph.h.
#include "engine/core/graph.h"

#include <unordered_set>

#include "engine/core/op_profile.h"
#include "engine/core/tensor_ops.h"

namespace ember::ag {

Node::~Node() {
  // An input this node holds the last reference to dies with it, and so does that input's
  // creator when nothing else holds it: take those creators out first and free them one at a
  // time, each with its inputs already taken, so no destructor runs inside another.
  std::vector<std::shared_ptr<Node>> pending;
  auto take_inputs = [&pending](std::vector<std::shared_ptr<VarImpl>>& ins) {
    for (std::shared_ptr<VarImpl>& in : ins)
      if (in && in.use_count() == 1 && in->creator && in->creator.use_count() == 1)
        pending.push_back(std::move(in->creator));
    ins.clear();
  };
  take_inputs(inputs);
  while (!pending.empty()) {
    std::shared_ptr<Node> node = std::move(pending.back());
    pending.pop_back();
    take_inputs(node->inputs);
  }  // each node is freed here, with no inputs left to free
}

namespace {
thread_local bool g_grad_enabled = true;

// Post-order DFS over creators with an explicit stack: parents after all their inputs' nodes.
std::vector<Node*> topo_order(Node* root) {
  std::vector<Node*> order;
  if (!root) return order;
  std::unordered_set<Node*> visited;
  std::vector<std::pair<Node*, size_t>> stack;  // (node, next input to visit)
  stack.emplace_back(root, 0);
  visited.insert(root);
  while (!stack.empty()) {
    auto& [node, next] = stack.back();
    if (next < node->inputs.size()) {
      Node* child = node->inputs[next++]->creator.get();
      if (child && visited.insert(child).second) stack.emplace_back(child, 0);
    } else {
      order.push_back(node);
      stack.pop_back();
    }
  }
  return order;
}
}  // namespace

Var::Var(Tensor value, bool requires_grad) : p_(std::make_shared<VarImpl>()) {
  p_->value = std::move(value);
  p_->requires_grad = requires_grad;
}

Tensor* GradInputs::get(size_t i) {
  VarImpl& in = *inputs_[i];
  if (!in.requires_grad) return nullptr;
  if (!in.grad.defined())
    in.grad = Tensor::zeros(in.value.shape(), in.value.dtype(), in.value.device());
  return &in.grad;
}

void Var::backward(bool retain_graph) const {
  EMBER_CHECK_ARG(p_ && p_->value.numel() == 1,
                  "backward() without a seed needs a scalar, got " << p_->value.str());
  backward(Tensor::full(p_->value.shape(), p_->value.dtype(), 1.0).to(p_->value.device()),
           retain_graph);
}

void Var::backward(const Tensor& seed, bool retain_graph) const {
  EMBER_CHECK_ARG(p_ && p_->requires_grad, "backward() on a value that does not require grad");
  check_same_shape(seed, p_->value, "backward seed");
  if (is_leaf()) {  // nothing to propagate: the leaf's gradient just accumulates
    if (!p_->grad.defined())
      p_->grad = seed.clone();
    else
      add_inplace(p_->grad, seed);
    return;
  }
  p_->grad = seed.clone();  // an intermediate value: its gradient lives for this pass only

  std::vector<Node*> order = topo_order(p_->creator.get());
  std::vector<const Tensor*> d_out;
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    Node* node = *it;
    d_out.assign(node->outputs.size(), nullptr);
    bool any = false;
    std::vector<std::shared_ptr<VarImpl>> alive(node->outputs.size());
    for (size_t k = 0; k < node->outputs.size(); ++k) {
      alive[k] = node->outputs[k].lock();
      if (alive[k] && alive[k]->grad.defined()) {
        d_out[k] = &alive[k]->grad;
        any = true;
      }
    }
    if (any) {
      EMBER_CHECK(node->backward, "backward through "
                                      << node->name
                                      << " a second time: pass retain_graph=true the first time");
      GradInputs d_in(node->inputs);
      if (op_profile::enabled()) {  // the node's call, by its name; the off path is one branch
        const double t0 = op_profile::now_seconds();
        node->backward(d_out, d_in);
        op_profile::add(node->name, op_profile::Phase::kBackward, op_profile::now_seconds() - t0);
      } else {
        node->backward(d_out, d_in);
      }
    }
    // Intermediate gradients (the root's too) are spent once their node has run.
    for (auto& out : alive)
      if (out) out->grad = Tensor();
    if (!retain_graph) node->backward = nullptr;
  }
}

std::vector<Var> record(const char* name, const std::vector<Var>& inputs,
                        std::vector<Tensor> outputs, BackwardFn backward) {
  // The outputs are computed: the op's forward ends here, recorded or not (inference too).
  if (op_profile::enabled()) op_profile::on_record(name);
  bool needs = false;
  if (g_grad_enabled)
    for (const Var& v : inputs) needs = needs || v.requires_grad();
  std::vector<Var> vars;
  vars.reserve(outputs.size());
  for (Tensor& t : outputs) vars.emplace_back(std::move(t), needs);
  if (!needs) return vars;
  auto node = std::make_shared<Node>();
  node->name = name;
  for (const Var& v : inputs) node->inputs.push_back(v.impl());
  for (size_t k = 0; k < vars.size(); ++k) {
    node->outputs.push_back(vars[k].impl());
    vars[k].impl()->creator = node;
    vars[k].impl()->output_index = static_cast<int>(k);
  }
  node->backward = std::move(backward);
  return vars;
}

Var record1(const char* name, const std::vector<Var>& inputs, Tensor output, BackwardFn backward) {
  std::vector<Tensor> outs;
  outs.push_back(std::move(output));
  return record(name, inputs, std::move(outs), std::move(backward))[0];
}

bool grad_enabled() {
  return g_grad_enabled;
}

NoGradGuard::NoGradGuard() : prev_(g_grad_enabled) {
  g_grad_enabled = false;
}
NoGradGuard::~NoGradGuard() {
  g_grad_enabled = prev_;
}

size_t graph_size(const Var& v) {
  return topo_order(v.impl()->creator.get()).size();
}

}  // namespace ember::ag
