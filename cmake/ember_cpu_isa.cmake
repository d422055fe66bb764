# Compiler flags of the CPU loops built once per instruction set (engine/core/cpu_isa.h picks
# one at run time): kernels/lstm/lstm_gates_cpu_<isa>.cpp. Off x86-64 the files get no flags
# and cpu_isa.cpp never selects them. Source properties are per directory, so this is
# included from the top-level CMakeLists.txt, where the layer targets are made.
if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64|amd64)$")
  set_source_files_properties(${PROJECT_SOURCE_DIR}/kernels/lstm/lstm_gates_cpu_avx2.cpp
    PROPERTIES COMPILE_OPTIONS "-mavx2;-mfma")
  # GCC and Clang prefer 256-bit vectors even where AVX-512 is enabled; these loops are pure
  # element-wise work, where the full width pays.
  set_source_files_properties(${PROJECT_SOURCE_DIR}/kernels/lstm/lstm_gates_cpu_avx512.cpp
    PROPERTIES COMPILE_OPTIONS
    "-mavx2;-mfma;-mavx512f;-mavx512vl;-mavx512bw;-mavx512dq;-mprefer-vector-width=512")
endif()
