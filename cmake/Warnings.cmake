# ruleeval_target_warnings(<target>): the project's warning set, -Werror when RULEEVAL_WERROR is on.
function(ruleeval_target_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow)
  if(RULEEVAL_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
  ruleeval_target_pch(${target})  # every project target passes here (cmake/Precompile.cmake)
endfunction()

# clang 16 implements conditionally trivial special members (P0848) but still advertises
# __cpp_concepts 201907, so libstdc++ 12 hides std::expected from it. Tell libstdc++ the truth.
# (clang 14 lacks P0848 entirely, which is why the fuzz build uses Debian's clang-16.)
if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  add_compile_options(-Wno-builtin-macro-redefined -U__cpp_concepts -D__cpp_concepts=202002L)
endif()
