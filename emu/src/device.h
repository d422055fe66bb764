// The emulated device's profile (internal): an H100 SXM by default. Limits the launch checks
// enforce and the properties/attributes the runtime reports both come from here.
#pragma once

#include <cstddef>

namespace emu::detail {

struct Profile {
  const char* name;
  int major, minor;
  int sms;
  std::size_t total_mem;             // EMBER_EMU_MEM_MB overrides
  std::size_t smem_per_block;        // default limit for static + dynamic (48 KiB)
  std::size_t smem_per_block_optin;  // with cudaFuncAttributeMaxDynamicSharedMemorySize
  std::size_t smem_per_sm;
  std::size_t smem_reserved_per_block;  // the driver's per-CTA reservation
  int max_threads_per_block, max_threads_per_sm, max_blocks_per_sm;
  int regs_per_block, regs_per_sm;
  int l2_bytes;
  int memory_bus_width;
  int gpcs_small, sms_per_gpc_small, gpcs_large, sms_per_gpc_large;  // cluster placement
};

const Profile& profile();
// False when EMBER_EMU_NO_DEVICE is set: the runtime then reports no device.
bool device_present();

}  // namespace emu::detail
