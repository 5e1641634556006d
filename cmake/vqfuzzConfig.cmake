# find_package(vqfuzz) for a user project: configure with -Dvqfuzz_DIR=<vqfuzz>/cmake.
# Adds the vqfuzz tree (emulator, harness, built-in targets) under <build>/vqfuzz unless it is
# already part of the build, then brings vqfuzz_add_device / vqfuzz_add_driver
# (VqfuzzAdapters.cmake).
get_filename_component(_vqfuzz_root "${CMAKE_CURRENT_LIST_DIR}/.." ABSOLUTE)
if(NOT TARGET vqf_harness)
  add_subdirectory(${_vqfuzz_root} ${CMAKE_BINARY_DIR}/vqfuzz)
endif()
include(${CMAKE_CURRENT_LIST_DIR}/VqfuzzAdapters.cmake)
set(vqfuzz_FOUND TRUE)
