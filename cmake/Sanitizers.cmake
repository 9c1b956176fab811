# Global ASan+UBSan switch. Applied to every target so that the runtime sees all code.
if(RULEEVAL_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()
# ThreadSanitizer (tools/test.sh builds engine_tests and notifiers_tests with it in build-tsan).
# It cannot be combined with ASan.
if(RULEEVAL_TSAN)
  if(RULEEVAL_SANITIZE)
    message(FATAL_ERROR "RULEEVAL_TSAN and RULEEVAL_SANITIZE cannot be combined")
  endif()
  add_compile_options(-fsanitize=thread -fno-omit-frame-pointer)
  add_link_options(-fsanitize=thread)
endif()
if(RULEEVAL_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "RULEEVAL_FUZZ needs clang (configure with -DCMAKE_CXX_COMPILER=clang++-16)")
  endif()
  # UBSan stops at the first report (as in RULEEVAL_SANITIZE), so a fuzzer records it as a crash and
  # a unit test built here (tools/test.sh runs the unit tests of this build) fails on it.
  # pointer-overflow stays recoverable so that tools/ci/ubsan.supp can silence one known report in
  # Debian's RapidJSON 1.1 (internal/stack.h adds an offset to its null initial stack pointer,
  # fixed upstream after 1.1); UBSAN_OPTIONS=halt_on_error=1 (tools/test.sh) still makes every
  # other report fatal.
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer
                      -fno-sanitize-recover=undefined -fsanitize-recover=pointer-overflow)
  add_link_options(-fsanitize=address,undefined)
endif()
# GCC 12 reports false -Wmaybe-uninitialized positives inside std::variant once ASan/UBSan
# instrumentation changes inlining; the sanitizers themselves check this class of bug at run time.
if(RULEEVAL_SANITIZE AND CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  add_compile_options(-Wno-maybe-uninitialized)
endif()
