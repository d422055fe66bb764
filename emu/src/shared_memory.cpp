// Shared memory of emulated blocks. Each block owns its allocations: [0] the launch's dynamic
// shared memory (allocated when the block starts), then one per static __shared__ declaration
// site, allocated the first time any of the block's threads (or map_shared_rank from another
// block of the cluster) asks. Every allocation is an exact-size heap block (so ASan reports
// any access past it) filled with 0xFF bytes, which read as NaN in float/double and -1 in
// integers, so an uninitialised read shows. The hardware limits are checked as allocations
// grow: 48 KiB of static memory, and static + dynamic within the launch's limit.
#include <cstdlib>
#include <cstring>

#include "scheduler.h"
#include "state.h"

namespace emu::detail {

namespace {

constexpr std::size_t kStaticLimit = 48 * 1024;

char* alloc_poisoned(std::size_t bytes, std::size_t align) {
  if (align < 16) align = 16;
  void* p = nullptr;
  // The allocation and the poison are the emulator's writes, not the thread's that happens to
  // ask first: hidden from ThreadSanitizer (the block's memory then starts with no history).
  tsan_ignore_writes(true);
  const int e = posix_memalign(&p, align, bytes);
  if (e == 0 && p) std::memset(p, 0xFF, bytes);
  tsan_ignore_writes(false);
  if (e != 0 || (!p && bytes > 0)) {
    diag("cannot allocate " + std::to_string(bytes) + " bytes of shared memory");
    std::abort();
  }
  return static_cast<char*>(p);
}

SharedAlloc* find_site(Block& b, const void* site) {
  for (std::size_t i = 1; i < b.shared.size(); ++i)
    if (b.shared[i].site == site) return &b.shared[i];
  return nullptr;
}

SharedAlloc& add_static(Block& b, std::size_t bytes, std::size_t align, const void* site) {
  b.static_bytes += bytes;
  const LaunchInfo& l = *tl_run->launch;
  if (b.static_bytes > kStaticLimit)
    fault([&] {
      return std::string("static __shared__ memory of its block reaches " +
                         std::to_string(b.static_bytes) +
                         " bytes, above the 48 KiB a block may declare statically");
    });
  if (b.static_bytes + l.dynamic_smem > l.smem_limit)
    fault([&] {
      return std::string("shared memory of its block reaches " + std::to_string(b.static_bytes) +
                         " static + " + std::to_string(l.dynamic_smem) +
                         " dynamic bytes, above the " + std::to_string(l.smem_limit) +
                         " bytes a block may use");
    });
  b.shared.push_back(SharedAlloc{site, alloc_poisoned(bytes, align), bytes});
  return b.shared.back();
}

// The allocation of block b that holds p, or nullptr.
const SharedAlloc* holding(const Block& b, const void* p) {
  const char* c = static_cast<const char*>(p);
  for (const SharedAlloc& a : b.shared)
    if (c >= a.ptr && c < a.ptr + a.bytes) return &a;
  return nullptr;
}

std::string not_shared(const Block& b, const void* p) {
  std::string s = "address " + hex(p) + " is not shared memory of its block (it has " +
                  std::to_string(b.shared[0].bytes) + " dynamic bytes";
  if (b.shared.size() > 1) s += " and " + std::to_string(b.shared.size() - 1) + " static arrays";
  return s + ")";
}

}  // namespace

void shared_begin_block(Block& b, const LaunchInfo& launch) {
  b.shared.clear();
  b.static_bytes = 0;
  b.shared.push_back(
      SharedAlloc{nullptr, alloc_poisoned(launch.dynamic_smem, 256), launch.dynamic_smem});
}

void shared_end_block(Block& b) {
  for (SharedAlloc& a : b.shared) std::free(a.ptr);
  b.shared.clear();
}

void* cluster_map_shared_rank(const void* addr, unsigned rank, Site site) {
  Thread& t = current("cluster.map_shared_rank()");
  Run& run = *tl_run;
  auto call = [&] {  // for fault messages only: this is on the hot path of DSMEM exchanges
    return "map_shared_rank(" + hex(addr) + ", " + std::to_string(rank) + ") (" + where(site) +
           "): ";
  };
  if (rank >= run.blocks.size())
    fault([&] {
      return std::string(call() + "rank " + std::to_string(rank) + " is not in the cluster of " +
                         std::to_string(run.blocks.size()) + " blocks");
    });
  const SharedAlloc* a = holding(*t.block, addr);
  if (!a) fault([&] { return std::string(call() + not_shared(*t.block, addr)); });
  Block& target = run.blocks[rank];
  if (target.exited == target.nthreads)
    fault([&] {
      return std::string(call() + "block rank " + std::to_string(rank) +
                         " has exited: its shared memory no longer exists");
    });
  const std::size_t offset = static_cast<std::size_t>(static_cast<const char*>(addr) - a->ptr);
  if (!a->site) return target.shared[0].ptr + offset;
  SharedAlloc* there = find_site(target, a->site);
  if (!there) there = &add_static(target, a->bytes, 256, a->site);
  return there->ptr + offset;
}

unsigned cluster_query_shared_rank(const void* addr, Site site) {
  current("cluster.query_shared_rank()");
  for (const Block& b : tl_run->blocks)
    if (holding(b, addr)) return b.rank;
  fault([&] {
    return std::string("query_shared_rank(" + hex(addr) + ") (" + where(site) +
                       "): the address is not shared memory of any block of the cluster");
  });
}

}  // namespace emu::detail

void* emu::block_shared(std::size_t bytes, std::size_t align, const void* site) {
  using namespace emu::detail;
  Thread& t = current("emu::block_shared (a __shared__ declaration)");
  Block& b = *t.block;
  if (SharedAlloc* a = find_site(b, site)) {
    if (a->bytes != bytes)
      fault([&] {
        return std::string("__shared__ declaration " + hex(site) + " asks for " +
                           std::to_string(bytes) + " bytes, but " + std::to_string(a->bytes) +
                           " were allocated for it");
      });
    return a->ptr;
  }
  return add_static(b, bytes, align, site).ptr;
}

void* emu::dynamic_shared() {
  using namespace emu::detail;
  return current("emu::dynamic_shared (extern __shared__)").block->shared[0].ptr;
}
