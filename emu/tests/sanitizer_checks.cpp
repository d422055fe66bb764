// Planted defects that only a sanitizer sees, each run in a child process (this binary
// re-executed as `child NAME`) whose death and report are checked:
//   asan: an out-of-bounds store into a cudaMalloc buffer, into a static __shared__ array and
//         into dynamic shared memory must each die with an AddressSanitizer report; a correct
//         kernel touching the same memory must run clean.
//   tsan: a read of shared memory before the barrier that orders it after another thread's
//         write must be reported as a data race; the same kernel with the barrier must not.
// Without that sanitizer in the build the check prints why and exits 77 (CTest: skipped).
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "emu_test_util.h"

#if defined(__SANITIZE_ADDRESS__)
#define EMU_HAVE_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define EMU_HAVE_ASAN 1
#endif
#endif
#if defined(__SANITIZE_THREAD__)
#define EMU_HAVE_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define EMU_HAVE_TSAN 1
#endif
#endif

namespace {

__global__ void store_global(int* out, int n) {
  out[threadIdx.x] = static_cast<int>(threadIdx.x);  // threads n.. write past the buffer
  (void)n;
}

__global__ void store_static_shared(int* out, int n) {
  EMU_SHARED(int, s, 32);
  if (static_cast<int>(threadIdx.x) < n) s[threadIdx.x] = 1;  // n = 33: one past the array
  __syncthreads();
  if (threadIdx.x == 0) out[0] = s[0];
}

__global__ void store_dynamic_shared(int* out, int n) {
  int* s = static_cast<int*>(emu::dynamic_shared());
  if (static_cast<int>(threadIdx.x) < n) s[threadIdx.x] = 1;
  __syncthreads();
  if (threadIdx.x == 0) out[0] = s[0];
}

// Thread 0 writes, the others read; the barrier is what orders them.
__global__ void publish(int* out, int with_barrier) {
  EMU_SHARED(int, s, 1);
  if (threadIdx.x == 0) s[0] = 42;
  if (with_barrier) __syncthreads();
  out[threadIdx.x] = s[0];
  if (!with_barrier) __syncthreads();
}

int child(const std::string& what) {
  int* out = nullptr;
  if (cudaMalloc(&out, 32 * sizeof(int)) != cudaSuccess) return 3;
  cudaError_t e = cudaSuccess;
  if (what == "oob-global") e = emu_test::grid(1, 33)(store_global, out, 32);
  if (what == "ok-global") e = emu_test::grid(1, 32)(store_global, out, 32);
  if (what == "oob-static") e = emu_test::grid(1, 33)(store_static_shared, out, 33);
  if (what == "ok-static") e = emu_test::grid(1, 33)(store_static_shared, out, 32);
  if (what == "oob-dynamic") e = emu_test::grid(1, 33, 32 * 4)(store_dynamic_shared, out, 33);
  if (what == "ok-dynamic") e = emu_test::grid(1, 33, 32 * 4)(store_dynamic_shared, out, 32);
  if (what == "race") e = emu_test::grid(1, 64)(publish, out, 0);
  if (what == "no-race") e = emu_test::grid(1, 64)(publish, out, 1);
  std::printf("child %s: %s\n", what.c_str(), cudaGetErrorName(e));
  return e == cudaSuccess ? 0 : 2;
}

struct Outcome {
  int status;  // exit code, or 128 + signal
  std::string err;
};

Outcome run_child(const char* self, const char* what) {
  int fds[2];
  if (pipe(fds) != 0) return {-1, "pipe failed"};
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(fds[1], 2);
    close(fds[0]);
    close(fds[1]);
    execl(self, self, "child", what, static_cast<char*>(nullptr));
    _exit(127);
  }
  close(fds[1]);
  Outcome o{0, ""};
  char buf[4096];
  for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) > 0;)
    o.err.append(buf, static_cast<size_t>(n));
  close(fds[0]);
  int st = 0;
  waitpid(pid, &st, 0);
  o.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  return o;
}

// `what` must die (or exit non-zero) with `report` (or `report2`) on stderr when `bad`, and run
// clean (neither on stderr) when not.
[[maybe_unused]] bool expect(const char* self, const char* what, bool bad, const char* report,
                             const char* report2 = nullptr) {
  const Outcome o = run_child(self, what);
  const bool reported = o.err.find(report) != std::string::npos ||
                        (report2 && o.err.find(report2) != std::string::npos);
  const bool ok = bad ? (o.status != 0 && reported) : (o.status == 0 && !reported);
  std::printf("%s %-12s exit %d, %s\n", ok ? "ok  " : "FAIL", what, o.status,
              reported ? "reported" : "no report");
  if (!ok) std::printf("---- child stderr ----\n%s----\n", o.err.c_str());
  return ok;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 3 && std::strcmp(argv[1], "child") == 0) return child(argv[2]);
  if (argc != 2 || (std::strcmp(argv[1], "asan") != 0 && std::strcmp(argv[1], "tsan") != 0)) {
    std::fprintf(stderr, "usage: %s asan|tsan\n", argv[0]);
    return 2;
  }
  bool ok = true;
  if (std::strcmp(argv[1], "asan") == 0) {
#ifdef EMU_HAVE_ASAN
    // With UBSan beside ASan, the store past a static array of known bound is caught first as
    // an out-of-bounds index; both are the defect found.
    for (const char* kind : {"global", "static", "dynamic"}) {
      ok &=
          expect(argv[0], (std::string("oob-") + kind).c_str(), true,
                 "AddressSanitizer: heap-buffer-overflow", "runtime error: index 32 out of bounds");
      ok &= expect(argv[0], (std::string("ok-") + kind).c_str(), false, "AddressSanitizer",
                   "runtime error");
    }
#else
    std::printf(
        "skipped: this build has no AddressSanitizer (configure with -fsanitize=address)\n");
    return 77;
#endif
  } else {
#ifdef EMU_HAVE_TSAN
    ok &= expect(argv[0], "race", true, "ThreadSanitizer: data race");
    ok &= expect(argv[0], "no-race", false, "ThreadSanitizer");
#else
    std::printf("skipped: this build has no ThreadSanitizer (configure with -fsanitize=thread)\n");
    return 77;
#endif
  }
  return ok ? 0 : 1;
}
