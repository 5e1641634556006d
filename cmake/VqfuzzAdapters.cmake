# Plug your own virtio device or driver into vqfuzz: one adapter file, one CMake call.
#
#   vqfuzz_add_device(NAME mydev SOURCES mydev.c mydev_adapter.c DEVICE_ID 4 [ADAPTER sym]
#                     [KINDS device mmio ...] [DEFINITIONS X=1 ...])
#   vqfuzz_add_driver(NAME mydrv SOURCES mydrv.c mydrv_adapter.c DEVICE_ID 4 [ADAPTER sym]
#                     [KINDS driver pair ...] [DEFINITIONS X=1 ...])
#
# KINDS limits the targets generated (default: all of them); DEFINITIONS are compile
# definitions of the adapter sources.
#
# SOURCES are compiled into a static library <NAME>_adapter; ADAPTER is the name of the
# `const struct vqf_device_adapter` / `vqf_driver_adapter` they define (default: <NAME>_device
# / <NAME>_driver). DEVICE_ID is the virtio device ID (spec 5): it chooses the reference peer
# (the honest driver of a device, the honest device of a driver) and the built-in seeds.
#
# One fuzz target executable per kind, each a generated .c holding a `struct vqf_target` and
# an LLVMFuzzerTestOneInput that calls vqf_fuzz_target() (harness/exec.h). Kinds mirror the
# built-in descriptors of harness/targets.c:
#   device: <NAME>_device (user device vs the fuzzer's lying driver), <NAME>_mmio (raw register
#           accesses), <NAME>_negotiation, <NAME>_config (with the reference driver of the
#           type, the lying device's transport lies on), <NAME>_pair (honest pair with the
#           reference driver).
#   driver: <NAME>_driver (user driver vs the lying reference device), <NAME>_pair,
#           <NAME>_negotiation, <NAME>_config.
# The engine is chosen by LIB_FUZZING_ENGINE exactly as for the built-in targets (empty:
# replay main; -fsanitize=fuzzer...: libFuzzer plus the custom mutator; else that library).
# Seeds: the built-in corpus of the same device type and kind, compiled to
# ${CMAKE_BINARY_DIR}/corpus/<target>/ by vqf_seedc; replay builds add a ctest
# corpus_<target> that replays them (call enable_testing() in the calling directory first).
#
# From your own project: add_subdirectory(path/to/vqfuzz) then include(VqfuzzAdapters) -
# the module finds the vqfuzz tree relative to itself (see examples/README.md).

include_guard(GLOBAL)

get_filename_component(VQFUZZ_ROOT "${CMAKE_CURRENT_LIST_DIR}/.." ABSOLUTE)
set(VQFUZZ_ROOT "${VQFUZZ_ROOT}" CACHE INTERNAL "vqfuzz source tree")

# The reference adapters by device ID (emulator/devices/devices.h, emulator/driver/drivers.h)
# and the built-in corpus folder prefix of the same type.
function(_vqfuzz_type_of id out_prefix out_dev out_drv)
  if(id EQUAL 1)
    set(p net)
  elseif(id EQUAL 2)
    set(p blk)
  elseif(id EQUAL 3)
    set(p console)
  elseif(id EQUAL 4)
    set(p rng)
  else()
    message(FATAL_ERROR "vqfuzz: DEVICE_ID ${id} has no reference peer (1 net, 2 blk, 3 console, 4 rng)")
  endif()
  set(${out_prefix} ${p} PARENT_SCOPE)
  set(${out_dev} vqf_${p}_device PARENT_SCOPE)
  set(${out_drv} vqf_${p}_driver PARENT_SCOPE)
endfunction()

# The user entry (harness/fuzz_target.c), built once per build tree.
function(_vqfuzz_entry_lib)
  if(NOT TARGET vqf_fuzz_target_entry)
    # minimize.c: the VQF_MINIMIZE mode of the entry (a finding minimized by its own binary)
    add_library(vqf_fuzz_target_entry STATIC ${VQFUZZ_ROOT}/harness/fuzz_target.c ${VQFUZZ_ROOT}/harness/minimize.c)
    target_include_directories(vqf_fuzz_target_entry PUBLIC ${VQFUZZ_ROOT}/include ${VQFUZZ_ROOT})
    target_link_libraries(vqf_fuzz_target_entry PUBLIC vqf_harness)
  endif()
endfunction()

# vqfuzz_link_engine(exe): cmake/VqfEngine.cmake, shared with the built-in targets.
include(${CMAKE_CURRENT_LIST_DIR}/VqfEngine.cmake)

# Seeds of target `name` from the built-in corpus folders `srcs` (first one that has any).
function(_vqfuzz_seeds name)
  set(txts "")
  foreach(src ${ARGN})
    file(GLOB txts CONFIGURE_DEPENDS ${VQFUZZ_ROOT}/corpus/${src}/*.txt)
    if(txts)
      break()
    endif()
  endforeach()
  set(dir ${CMAKE_BINARY_DIR}/corpus/${name})
  if(txts AND TARGET vqf_seedc)
    set(outs "")
    foreach(t ${txts})
      get_filename_component(base ${t} NAME_WE)
      list(APPEND outs ${dir}/${base}.bin)
    endforeach()
    add_custom_command(OUTPUT ${outs}
      COMMAND ${CMAKE_COMMAND} -E make_directory ${dir}
      COMMAND vqf_seedc ${dir} ${txts}
      DEPENDS vqf_seedc ${txts}
      COMMENT "Compiling seeds of ${name}" VERBATIM)
    add_custom_target(${name}_seeds ALL DEPENDS ${outs})
    add_dependencies(vqf_fuzz_${name} ${name}_seeds)
    if(VQF_BUILD_TESTS AND NOT LIB_FUZZING_ENGINE)
      # fixed findings of this target (corpus/regressions/<name>/, README there) replay too
      set(replay ${dir})
      file(GLOB regs CONFIGURE_DEPENDS ${VQFUZZ_ROOT}/corpus/regressions/${name}/*.bin)
      if(regs)
        list(APPEND replay ${VQFUZZ_ROOT}/corpus/regressions/${name})
      endif()
      add_test(NAME corpus_${name} COMMAND vqf_fuzz_${name} ${replay})
      set_tests_properties(corpus_${name} PROPERTIES LABELS "corpus;examples" TIMEOUT 300)
    endif()
  endif()
endfunction()

# One generated target: kind name, liar, roles, judged sides, flags, device and driver symbols.
function(_vqfuzz_target name summary id liar roles judged flags dev drv lib)
  set(VQFUZZ_T_NAME ${name})
  set(VQFUZZ_T_SUMMARY ${summary})
  set(VQFUZZ_T_ID ${id})
  set(VQFUZZ_T_LIAR ${liar})
  set(VQFUZZ_T_ROLES ${roles})
  set(VQFUZZ_T_JUDGED ${judged})
  set(VQFUZZ_T_FLAGS ${flags})
  set(VQFUZZ_T_DEV ${dev})
  set(VQFUZZ_T_DRV ${drv})
  if(drv STREQUAL "NULL")
    set(VQFUZZ_T_DRV_DECL "")
    set(VQFUZZ_T_DRV_REF "NULL")
  else()
    set(VQFUZZ_T_DRV_DECL "extern const struct vqf_driver_adapter ${drv};")
    set(VQFUZZ_T_DRV_REF "&${drv}")
  endif()
  set(out ${CMAKE_CURRENT_BINARY_DIR}/vqfuzz_targets/${name}.c)
  configure_file(${VQFUZZ_ROOT}/cmake/vqfuzz_target.c.in ${out} @ONLY)
  set(exe vqf_fuzz_${name})
  add_executable(${exe} ${out})
  set_target_properties(${exe} PROPERTIES OUTPUT_NAME ${name})
  target_link_libraries(${exe} PRIVATE ${lib} vqf_fuzz_target_entry vqf_harness)
  vqfuzz_link_engine(${exe})
endfunction()

function(_vqfuzz_adapter_lib name)
  add_library(${name}_adapter STATIC ${ARGN})
  target_include_directories(${name}_adapter PUBLIC ${VQFUZZ_ROOT}/include ${VQFUZZ_ROOT})
  # The adapter's symbol is only referenced from the generated file: keep every object.
  target_link_libraries(${name}_adapter PUBLIC vqf_harness)
endfunction()


function(vqfuzz_add_device)
  # judged-side masks of the descriptors (set here: the module may have been included
  # from another directory first, include_guard keeps it from running again)
  set(_VQF_DRV "(1u << VQF_SIDE_DRIVER)")
  set(_VQF_DEV "(1u << VQF_SIDE_DEVICE)")
  cmake_parse_arguments(A "" "NAME;DEVICE_ID;ADAPTER" "SOURCES;KINDS;DEFINITIONS" ${ARGN})
  if(NOT A_KINDS)
    set(A_KINDS device mmio negotiation config pair)
  endif()
  if(NOT A_NAME OR NOT A_SOURCES OR NOT DEFINED A_DEVICE_ID)
    message(FATAL_ERROR "vqfuzz_add_device(NAME n SOURCES ... DEVICE_ID id [ADAPTER symbol])")
  endif()
  if(NOT A_ADAPTER)
    set(A_ADAPTER ${A_NAME}_device)
  endif()
  _vqfuzz_type_of(${A_DEVICE_ID} type ref_dev ref_drv)
  _vqfuzz_entry_lib()
  _vqfuzz_adapter_lib(${A_NAME} ${A_SOURCES})
  if(A_DEFINITIONS)
    target_compile_definitions(${A_NAME}_adapter PRIVATE ${A_DEFINITIONS})
  endif()
  set(n ${A_NAME})
  set(lib ${A_NAME}_adapter)
  set(both "(${_VQF_DRV} | ${_VQF_DEV})")
  if(device IN_LIST A_KINDS)
    _vqfuzz_target(${n}_device "${n} device under test; the fuzzer plays a lying driver" ${A_DEVICE_ID}
      VQF_LIAR_DRIVER VQF_ROLE_LDRV "${_VQF_DEV}" 0 ${A_ADAPTER} NULL ${lib})
    _vqfuzz_seeds(${n}_device ${type}_device)
  endif()
  if(mmio IN_LIST A_KINDS)
    _vqfuzz_target(${n}_mmio "${n} device: raw virtio-mmio register accesses in any order" ${A_DEVICE_ID}
      VQF_LIAR_DRIVER VQF_ROLE_LDRV "${_VQF_DEV}" VQF_T_MMIO ${A_ADAPTER} NULL ${lib})
    _vqfuzz_seeds(${n}_mmio mmio)
  endif()
  if(negotiation IN_LIST A_KINDS)
    _vqfuzz_target(${n}_negotiation "${n} device + reference driver: status, feature and reset sequences"
      ${A_DEVICE_ID} VQF_LIAR_NONE "(VQF_ROLE_WORK | VQF_ROLE_LDEV)" "${both}" VQF_T_NEGOTIATION
      ${A_ADAPTER} ${ref_drv} ${lib})
    _vqfuzz_seeds(${n}_negotiation negotiation)
  endif()
  if(config IN_LIST A_KINDS)
    _vqfuzz_target(${n}_config "${n} device + reference driver: config reads, changes, generation" ${A_DEVICE_ID}
      VQF_LIAR_NONE "(VQF_ROLE_WORK | VQF_ROLE_LDEV)" "${both}" VQF_T_CONFIG ${A_ADAPTER} ${ref_drv} ${lib})
    _vqfuzz_seeds(${n}_config config)
  endif()
  if(pair IN_LIST A_KINDS)
    _vqfuzz_target(${n}_pair "${n} device + reference driver, honest; the oracle judges both" ${A_DEVICE_ID}
      VQF_LIAR_NONE VQF_ROLE_WORK "${both}" 0 ${A_ADAPTER} ${ref_drv} ${lib})
    _vqfuzz_seeds(${n}_pair ${type}_pair ${type}_driver)
  endif()
endfunction()

function(vqfuzz_add_driver)
  # judged-side masks of the descriptors (set here: the module may have been included
  # from another directory first, include_guard keeps it from running again)
  set(_VQF_DRV "(1u << VQF_SIDE_DRIVER)")
  set(_VQF_DEV "(1u << VQF_SIDE_DEVICE)")
  cmake_parse_arguments(A "" "NAME;DEVICE_ID;ADAPTER" "SOURCES;KINDS;DEFINITIONS" ${ARGN})
  if(NOT A_KINDS)
    set(A_KINDS driver pair negotiation config)
  endif()
  if(NOT A_NAME OR NOT A_SOURCES OR NOT DEFINED A_DEVICE_ID)
    message(FATAL_ERROR "vqfuzz_add_driver(NAME n SOURCES ... DEVICE_ID id [ADAPTER symbol])")
  endif()
  if(NOT A_ADAPTER)
    set(A_ADAPTER ${A_NAME}_driver)
  endif()
  _vqfuzz_type_of(${A_DEVICE_ID} type ref_dev ref_drv)
  _vqfuzz_entry_lib()
  _vqfuzz_adapter_lib(${A_NAME} ${A_SOURCES})
  if(A_DEFINITIONS)
    target_compile_definitions(${A_NAME}_adapter PRIVATE ${A_DEFINITIONS})
  endif()
  set(n ${A_NAME})
  set(lib ${A_NAME}_adapter)
  set(both "(${_VQF_DRV} | ${_VQF_DEV})")
  if(driver IN_LIST A_KINDS)
    _vqfuzz_target(${n}_driver "${n} driver under test; the fuzzer plays a lying device" ${A_DEVICE_ID}
      VQF_LIAR_DEVICE "(VQF_ROLE_LDEV | VQF_ROLE_WORK)" "${_VQF_DRV}" 0 ${ref_dev} ${A_ADAPTER} ${lib})
    _vqfuzz_seeds(${n}_driver ${type}_driver)
  endif()
  if(pair IN_LIST A_KINDS)
    _vqfuzz_target(${n}_pair "${n} driver + reference device, honest; the oracle judges both" ${A_DEVICE_ID}
      VQF_LIAR_NONE VQF_ROLE_WORK "${both}" 0 ${ref_dev} ${A_ADAPTER} ${lib})
    _vqfuzz_seeds(${n}_pair ${type}_pair ${type}_driver)
  endif()
  if(negotiation IN_LIST A_KINDS)
    _vqfuzz_target(${n}_negotiation "${n} driver + reference device: status, feature and reset sequences"
      ${A_DEVICE_ID} VQF_LIAR_NONE "(VQF_ROLE_WORK | VQF_ROLE_LDEV)" "${both}" VQF_T_NEGOTIATION
      ${ref_dev} ${A_ADAPTER} ${lib})
    _vqfuzz_seeds(${n}_negotiation negotiation)
  endif()
  if(config IN_LIST A_KINDS)
    _vqfuzz_target(${n}_config "${n} driver + reference device: config reads, changes, generation" ${A_DEVICE_ID}
      VQF_LIAR_NONE "(VQF_ROLE_WORK | VQF_ROLE_LDEV)" "${both}" VQF_T_CONFIG ${ref_dev} ${A_ADAPTER} ${lib})
    _vqfuzz_seeds(${n}_config config)
  endif()
endfunction()
