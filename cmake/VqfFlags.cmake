# Warning and sanitizer flags shared by every vqfuzz target.
set(VQF_WARN -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter)
if(VQF_WERROR)
  list(APPEND VQF_WARN -Werror)
endif()
add_compile_options("$<$<COMPILE_LANGUAGE:C>:${VQF_WARN}>")
add_compile_options(-fno-omit-frame-pointer)
# POSIX and GNU interfaces (mmap flags, getopt_long, ...) on top of strict C11.
add_compile_definitions(_GNU_SOURCE)

if(VQF_SANITIZE)
  add_compile_options(-fsanitize=${VQF_SANITIZE})
  add_link_options(-fsanitize=${VQF_SANITIZE})
  if(VQF_SANITIZE MATCHES "undefined")
    # A UBSan report must stop the run so that the engine saves the input.
    add_compile_options(-fno-sanitize-recover=undefined)
  endif()
  if(VQF_SANITIZE MATCHES "memory")
    add_compile_options(-fsanitize-memory-track-origins=2)
  endif()
endif()

if(VQF_COVERAGE)
  add_compile_options(-fprofile-instr-generate -fcoverage-mapping)
  add_link_options(-fprofile-instr-generate -fcoverage-mapping)
endif()

# With a libFuzzer engine every library is instrumented for coverage feedback, but only the
# final target links the engine's main().
if(LIB_FUZZING_ENGINE MATCHES "-fsanitize=fuzzer")
  add_compile_options(-fsanitize=fuzzer-no-link)
  # Tools built beside the targets (seed compiler, CLI) link the coverage callbacks too.
  add_link_options(-fsanitize=fuzzer-no-link)
endif()
