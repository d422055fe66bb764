# Data-parallel training (engine/dist): MPI between ranks, NCCL for GPU buffers. Included by
# the root CMakeLists.txt once the layer targets exist; adds the communicators this build can
# have to the dist layer (ember_dist), which holds the rest of engine/dist already.
#   EMBER_MPI=AUTO|ON|OFF   AUTO builds the MPI backend when a C MPI is found (Debian:
#                           libopenmpi-dev openmpi-bin, in scripts/setup.sh); `mpirun -np N
#                           ember train` then trains on N ranks. OFF: one process only.
#   EMBER_NCCL=AUTO|ON|OFF  with CUDA and MPI, the NCCL backend (device buffers) when nccl.h
#                           and libnccl are found in NCCL_ROOT, the CUDA toolkit or /usr.
# Defines EMBER_HAVE_MPI / EMBER_HAVE_NCCL (public, so tests see them) and EMBER_MPIEXEC.
set(EMBER_MPI AUTO CACHE STRING "Build the MPI data-parallel backend: AUTO, ON or OFF")
set_property(CACHE EMBER_MPI PROPERTY STRINGS AUTO ON OFF)
set(EMBER_NCCL AUTO CACHE STRING "Build the NCCL backend (needs CUDA and MPI): AUTO, ON or OFF")
set_property(CACHE EMBER_NCCL PROPERTY STRINGS AUTO ON OFF)

set(EMBER_HAVE_MPI OFF)
set(EMBER_MPIEXEC "")
if(NOT EMBER_MPI STREQUAL "OFF")
  # The project's language is C++: MPI's C API through the CXX component, without the
  # deprecated C++ bindings (MPI_CXX_SKIP_MPICXX).
  set(MPI_CXX_SKIP_MPICXX ON)
  if(EMBER_MPI STREQUAL "ON")
    find_package(MPI REQUIRED COMPONENTS CXX)
  else()
    find_package(MPI QUIET COMPONENTS CXX)
  endif()
  if(MPI_CXX_FOUND)
    set(EMBER_HAVE_MPI ON)
    set(EMBER_MPIEXEC "${MPIEXEC_EXECUTABLE}")
    target_sources(ember_dist PRIVATE ${CMAKE_CURRENT_LIST_DIR}/../engine/dist/comm_mpi.cpp)
    target_link_libraries(ember_dist PUBLIC MPI::MPI_CXX)
    target_compile_definitions(ember_dist PUBLIC EMBER_HAVE_MPI=1)
  endif()
endif()
if(EMBER_HAVE_MPI)
  message(STATUS "ember: MPI data parallelism ON (MPI ${MPI_CXX_VERSION}, launcher "
                 "${EMBER_MPIEXEC})")
else()
  message(STATUS "ember: MPI data parallelism OFF (no MPI found or EMBER_MPI=OFF; install "
                 "libopenmpi-dev openmpi-bin for `mpirun -np N ember train`)")
endif()

set(EMBER_HAVE_NCCL OFF)
# Not under the CUDA emulator (EMBER_CUDA_EMU): NCCL needs real GPUs.
if(EMBER_HAVE_CUDA AND NOT EMBER_CUDA_EMU AND EMBER_HAVE_MPI AND NOT EMBER_NCCL STREQUAL "OFF")
  find_path(NCCL_INCLUDE_DIR nccl.h HINTS ${NCCL_ROOT} ${CUDAToolkit_INCLUDE_DIRS}
            PATH_SUFFIXES include)
  find_library(NCCL_LIBRARY nccl HINTS ${NCCL_ROOT} ${CUDAToolkit_LIBRARY_DIR}
               ${CUDAToolkit_LIBRARY_ROOT}/lib PATH_SUFFIXES lib lib64)
  if(NCCL_INCLUDE_DIR AND NCCL_LIBRARY)
    set(EMBER_HAVE_NCCL ON)
    target_sources(ember_dist PRIVATE ${CMAKE_CURRENT_LIST_DIR}/../engine/dist/comm_nccl.cpp)
    target_include_directories(ember_dist PRIVATE ${NCCL_INCLUDE_DIR})
    target_link_libraries(ember_dist PUBLIC ${NCCL_LIBRARY})
    target_compile_definitions(ember_dist PUBLIC EMBER_HAVE_NCCL=1)
    message(STATUS "ember: NCCL backend ON (${NCCL_LIBRARY})")
  endif()
endif()
if(NOT EMBER_HAVE_NCCL)
  if(EMBER_NCCL STREQUAL "ON")
    message(FATAL_ERROR "EMBER_NCCL=ON but NCCL cannot be built: it needs CUDA (${EMBER_HAVE_CUDA}, "
                        "not the emulator), MPI (${EMBER_HAVE_MPI}) and nccl.h + libnccl (set "
                        "NCCL_ROOT)")
  endif()
  message(STATUS "ember: NCCL backend OFF (needs CUDA, MPI, nccl.h and libnccl; GPU ranks then "
                 "reduce through the host with MPI)")
endif()
