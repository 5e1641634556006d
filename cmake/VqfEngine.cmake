# vqfuzz_link_engine(exe): link a fuzz target for the engine named by LIB_FUZZING_ENGINE (the
# OSS-Fuzz contract): empty -> the standalone replay main; -fsanitize=fuzzer... -> libFuzzer plus
# the structure-aware custom mutator; anything else -> that flag or library (AFL++'s
# libAFLDriver.a, OSS-Fuzz's engine). Engine builds link with the C++ compiler. Used by the
# built-in targets and by vqfuzz_add_device / vqfuzz_add_driver.
function(vqfuzz_link_engine exe)
  if(NOT LIB_FUZZING_ENGINE)
    target_sources(${exe} PRIVATE ${VQF_REPLAY_MAIN})
    target_compile_definitions(${exe} PRIVATE VQFUZZ_REPLAY_BUILD=1)
  elseif(LIB_FUZZING_ENGINE MATCHES "^-fsanitize=fuzzer")
    separate_arguments(engine_flags UNIX_COMMAND "${LIB_FUZZING_ENGINE}")
    target_link_options(${exe} PRIVATE ${engine_flags})
    if(VQF_LIBFUZZER_MUTATOR)
      target_sources(${exe} PRIVATE ${VQF_LIBFUZZER_MUTATOR})
    endif()
    set_target_properties(${exe} PROPERTIES LINKER_LANGUAGE CXX)
  else()
    if(LIB_FUZZING_ENGINE MATCHES "^-")
      separate_arguments(engine_flags UNIX_COMMAND "${LIB_FUZZING_ENGINE}")
      target_link_options(${exe} PRIVATE ${engine_flags})
    else()
      target_link_libraries(${exe} PRIVATE ${LIB_FUZZING_ENGINE})
    endif()
    set_target_properties(${exe} PROPERTIES LINKER_LANGUAGE CXX)
  endif()
endfunction()
