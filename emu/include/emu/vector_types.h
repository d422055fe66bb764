// CUDA's built-in vector types for the CPU emulator (emu/README.md): uint3 and dim3 (the launch
// geometry, threadIdx/blockIdx), and the 1- to 4-component char..double vectors with CUDA's
// alignments (float2: 8 bytes, float4/int4/double2: 16) and make_<type>() constructors, so that
// code reinterpreting buffers as vectors sees the same layout as on the device.
#pragma once

struct uint3 {
  unsigned int x, y, z;
};

// Launch dimensions; every component defaults to 1, as CUDA's.
struct dim3 {
  unsigned int x, y, z;
  constexpr dim3(unsigned int vx = 1, unsigned int vy = 1, unsigned int vz = 1)
      : x(vx), y(vy), z(vz) {}
  constexpr dim3(uint3 v) : x(v.x), y(v.y), z(v.z) {}
  constexpr operator uint3() const { return uint3{x, y, z}; }
};

#define EMU_VECTOR_TYPES_(name, T, a2, a4)            \
  struct name##1 {                                    \
    T x;                                              \
  };                                                  \
  struct alignas(a2) name##2 {                        \
    T x, y;                                           \
  };                                                  \
  struct name##3 {                                    \
    T x, y, z;                                        \
  };                                                  \
  struct alignas(a4) name##4 {                        \
    T x, y, z, w;                                     \
  };                                                  \
  inline name##1 make_##name##1(T x) {                \
    return name##1 {x};                               \
  }                                                   \
  inline name##2 make_##name##2(T x, T y) {           \
    return name##2 {x, y};                            \
  }                                                   \
  inline name##3 make_##name##3(T x, T y, T z) {      \
    return name##3 {x, y, z};                         \
  }                                                   \
  inline name##4 make_##name##4(T x, T y, T z, T w) { \
    return name##4 {x, y, z, w};                      \
  }

EMU_VECTOR_TYPES_(char, signed char, 2, 4)
EMU_VECTOR_TYPES_(uchar, unsigned char, 2, 4)
EMU_VECTOR_TYPES_(short, short, 4, 8)
EMU_VECTOR_TYPES_(ushort, unsigned short, 4, 8)
EMU_VECTOR_TYPES_(int, int, 8, 16)
EMU_VECTOR_TYPES_(float, float, 8, 16)
EMU_VECTOR_TYPES_(long, long, 2 * sizeof(long), 16)
EMU_VECTOR_TYPES_(ulong, unsigned long, 2 * sizeof(long), 16)
EMU_VECTOR_TYPES_(longlong, long long, 16, 16)
EMU_VECTOR_TYPES_(ulonglong, unsigned long long, 16, 16)
EMU_VECTOR_TYPES_(double, double, 16, 16)
#undef EMU_VECTOR_TYPES_

// uint1/2/4 beside uint3, which is declared above with the launch types.
struct uint1 {
  unsigned int x;
};
struct alignas(8) uint2 {
  unsigned int x, y;
};
struct alignas(16) uint4 {
  unsigned int x, y, z, w;
};
inline uint1 make_uint1(unsigned int x) {
  return uint1{x};
}
inline uint2 make_uint2(unsigned int x, unsigned int y) {
  return uint2{x, y};
}
inline uint3 make_uint3(unsigned int x, unsigned int y, unsigned int z) {
  return uint3{x, y, z};
}
inline uint4 make_uint4(unsigned int x, unsigned int y, unsigned int z, unsigned int w) {
  return uint4{x, y, z, w};
}
