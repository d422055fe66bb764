// Warp operations: lanes are 32 consecutive linear thread ids of a block. A lane calling a
// *_sync operation must name itself in the mask, and every lane the mask names must exist, must
// not have exited and must reach an operation of the same kind and width with the same mask
// (CUDA leaves anything else undefined; here it is a fault). Lanes of one warp may wait in
// several operations with disjoint or overlapping masks at once (independent thread
// scheduling); each (mask) group completes when its last lane arrives, which computes every
// lane's result from the values the lanes left in their slots, so no slot is overwritten
// before it is read. A lane reading a lane outside the mask is a fault.
#include "scheduler.h"
#include "state.h"

namespace emu::detail {

namespace {

int lowest(unsigned m) {
  return __builtin_ctz(m);
}

bool is_shuffle(WarpKind k) {
  return k == WarpKind::Idx || k == WarpKind::Up || k == WarpKind::Down || k == WarpKind::Xor;
}

// The lane lane `l` reads in shuffle `kind` with argument `arg` and segment `width`.
unsigned source_lane(WarpKind kind, unsigned l, int arg, int width) {
  const unsigned w = static_cast<unsigned>(width);
  const unsigned seg = l & ~(w - 1), in = l & (w - 1);
  switch (kind) {
    case WarpKind::Idx:
      return seg + (static_cast<unsigned>(arg) & (w - 1));
    case WarpKind::Up:
      return in >= static_cast<unsigned>(arg) ? l - arg : l;
    case WarpKind::Down:
      return in + static_cast<unsigned>(arg) < w ? l + arg : l;
    case WarpKind::Xor: {
      // Lanes of later segments (or past the warp) give the caller its own value.
      const unsigned s = l ^ static_cast<unsigned>(arg);
      return (s >= 32 || (s & ~(w - 1)) > seg) ? l : s;
    }
    default:
      return l;
  }
}

void complete(Block& b, unsigned warp, const WarpGroup& g) {
  Thread* lanes = b.threads + warp * 32;
  std::uint64_t result = 0;
  if (g.kind == WarpKind::Ballot || g.kind == WarpKind::Any || g.kind == WarpKind::All) {
    unsigned ballot = 0;
    for (unsigned m = g.mask; m; m &= m - 1)
      if (lanes[lowest(m)].win) ballot |= 1u << lowest(m);
    result = g.kind == WarpKind::Ballot ? ballot
             : g.kind == WarpKind::Any  ? (ballot != 0)
                                        : (ballot == g.mask);
  }
  for (unsigned m = g.mask; m; m &= m - 1) {
    Thread& t = lanes[lowest(m)];
    if (is_shuffle(g.kind)) {
      const unsigned src = source_lane(g.kind, static_cast<unsigned>(lowest(m)), t.warg, g.width);
      if (!(g.mask >> src & 1u))
        fault(
            [&] {
              return std::string(std::string(kind_name(g.kind)) + " (" + where(g.site) +
                                 ") reads lane " + std::to_string(src) +
                                 ", which is not in the mask " + hex(g.mask));
            },
            &t);
      t.wout = lanes[src].win;
    } else {
      t.wout = result;
    }
  }
}

}  // namespace

std::uint64_t warp_op(WarpKind kind, unsigned mask, std::uint64_t bits, int arg, int width,
                      Site site) {
  Thread& t = current(kind_name(kind));
  Block& b = *t.block;
  const unsigned lane = t.linear & 31, warp = t.linear >> 5;
  Warp& w = b.warps[warp];
  const unsigned me = 1u << lane;
  // Built only for a fault message: this is the hot path of every shuffle.
  auto op = [&] {
    return std::string(kind_name(kind)) + " (mask " + hex(mask) + ", " + where(site) + ")";
  };
  if (!(mask & me))
    fault([&] {
      return std::string(op() + ": the mask does not name the calling lane " +
                         std::to_string(lane));
    });
  if (mask & ~w.exists)
    fault([&] {
      return std::string(op() + ": the mask names lane " +
                         std::to_string(lowest(mask & ~w.exists)) +
                         ", which does not exist (warp " + std::to_string(warp) +
                         " of a block of " + std::to_string(b.nthreads) + " threads)");
    });
  if (mask & w.exited)
    fault([&] {
      return std::string(op() + ": the mask names lane " + std::to_string(lowest(mask & w.exited)) +
                         ", which has exited");
    });
  if (is_shuffle(kind) && (width < 1 || width > 32 || (width & (width - 1)) != 0))
    fault([&] {
      return std::string(op() + ": width " + std::to_string(width) +
                         " is not a power of 2 in [1, 32]");
    });

  t.wkind = kind;
  t.wmask = mask;
  t.warg = arg;
  t.wwidth = width;
  t.win = bits;
  t.site = site;
  int gi = -1;
  for (int i = 0; i < w.ngroups; ++i)
    if (w.groups[i].mask == mask) gi = i;
  if (gi >= 0) {
    const WarpGroup& g = w.groups[gi];
    if (g.kind != kind || g.width != width)
      fault([&] {
        return std::string(op() + " while lanes " + hex(g.arrived) +
                           " of its warp wait with the same mask in " + kind_name(g.kind) +
                           " (width " + std::to_string(g.width) + ", " + where(g.site) + ")");
      });
  } else {
    gi = w.ngroups++;
    w.groups[gi] = WarpGroup{mask, 0, kind, width, site};
  }
  WarpGroup& g = w.groups[gi];
  g.arrived |= me;
  if (kind == WarpKind::Sync) tsan_release(&w.tsan_sync);
  if (g.arrived == mask) {
    const WarpGroup done = g;
    w.groups[gi] = w.groups[--w.ngroups];
    complete(b, warp, done);
    for (unsigned m = done.mask & ~me; m; m &= m - 1)
      b.threads[warp * 32 + lowest(m)].state = State::Runnable;
  } else {
    t.state = State::AtWarp;
    yield_to_scheduler();
  }
  if (kind == WarpKind::Sync) tsan_acquire(&w.tsan_sync);
  return t.wout;
}

unsigned active_mask() {
  const Thread& t = current("__activemask");
  const Warp& w = t.block->warps[t.linear >> 5];
  return w.exists & ~w.exited;
}

void check_exit_warp(Thread& t) {
  Warp& w = t.block->warps[t.linear >> 5];
  const unsigned me = 1u << (t.linear & 31);
  w.exited |= me;
  for (int i = 0; i < w.ngroups; ++i)
    if (w.groups[i].mask & me)
      fault([&] {
        return std::string("exited while lanes " + hex(w.groups[i].arrived) +
                           " of its warp wait in " + kind_name(w.groups[i].kind) + " (mask " +
                           hex(w.groups[i].mask) + ", " + where(w.groups[i].site) +
                           "), whose mask names its lane " + std::to_string(t.linear & 31));
      });
}

}  // namespace emu::detail
