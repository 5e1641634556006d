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

# Coverage feedback only for the code under test (devices, drivers, rings, transport, user
# adapters): cmake/sancov-ignorelist.txt names what is left out and why.
set(VQF_SANCOV_IGNORELIST "${CMAKE_CURRENT_LIST_DIR}/sancov-ignorelist.txt")
if(CMAKE_C_COMPILER MATCHES "afl-clang")
  # afl-clang-fast instruments with its own pass, which reads the list from the environment.
  set(CMAKE_C_COMPILER_LAUNCHER ${CMAKE_COMMAND} -E env "AFL_LLVM_DENYLIST=${VQF_SANCOV_IGNORELIST}")
elseif(CMAKE_C_COMPILER_ID MATCHES "Clang" AND
       (LIB_FUZZING_ENGINE MATCHES "-fsanitize=fuzzer" OR CMAKE_C_FLAGS MATCHES "fsanitize=fuzzer|fsanitize-coverage"))
  # (only where sanitizer coverage is on: clang rejects the list as unused otherwise)
  add_compile_options(-fsanitize-coverage-ignorelist=${VQF_SANCOV_IGNORELIST})
endif()
