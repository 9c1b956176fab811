# Precompiled headers, for CI's unoptimized builds (RULEEVAL_PCH=ON; off by default).
# Not for GCC -O2 with -Werror: with the header precompiled, GCC 12 reports its -Warray-bounds
# false positive inside libstdc++ (std::string operator+), which it otherwise keeps quiet.
#
# In an -O0 build about a third of a translation unit's CPU time goes to parsing the standard and
# third-party headers it includes (gcc -ftime-report on notifiers/src/config.cpp: 1.8 s of 5.8 s;
# tests/notifiers/receivers_test.cpp: 3.0 s of 8.2 s), and the same few hundred thousand lines
# are parsed again for every file. With RULEEVAL_PCH each target with at least four sources gets
# one precompiled header made of the <...> headers that at least a third of its own sources
# include (found by reading the sources at configure time), so the set follows the code.
# Project headers ("...") are never precompiled: they change while one works.
#
# Off by default, because a developer's ccache does not cache files compiled with a precompiled
# header unless configured for it (sloppiness pch_defines,time_macros), and because a
# precompiled header hides a missing #include; the default build keeps catching those.
option(RULEEVAL_PCH "Precompile the <...> headers most of a target's sources include" OFF)

# Headers never precompiled: doctest's implementation is selected by a macro defined in one file
# before the include; cpp-httplib and libyaml are each private to one file.
set(RULEEVAL_PCH_EXCLUDE "doctest/.*" "httplib\\.h" "yaml\\.h")

function(ruleeval_target_pch target)
  if(NOT RULEEVAL_PCH)
    return()
  endif()
  # The target's sources are complete only at the end of the directory that defines it.
  cmake_language(EVAL CODE "cmake_language(DEFER CALL _ruleeval_target_pch_now [[${target}]])")
endfunction()

# The <...> headers a file includes, directly or through the project's own headers ("...",
# found next to the including file or under any room's include/ folder), each once. Results are
# kept in global properties: a header is read once per configure however many files include it.
function(_ruleeval_system_includes file out)
  get_property(_done GLOBAL PROPERTY "_rpch_done:${file}" SET)
  if(_done)
    get_property(_r GLOBAL PROPERTY "_rpch_done:${file}")
    set(${out} "${_r}" PARENT_SCOPE)
    return()
  endif()
  set_property(GLOBAL PROPERTY "_rpch_done:${file}" "")  # a cycle ends here
  get_property(_roots GLOBAL PROPERTY _rpch_include_roots)
  if(NOT _roots)
    file(GLOB_RECURSE _inc LIST_DIRECTORIES true "${CMAKE_SOURCE_DIR}/*/include")
    list(FILTER _inc INCLUDE REGEX "/include$")
    list(FILTER _inc EXCLUDE REGEX "/build[^/]*/")
    set_property(GLOBAL PROPERTY _rpch_include_roots "${_inc}")
    set(_roots ${_inc})
  endif()
  get_filename_component(_here "${file}" DIRECTORY)
  file(STRINGS "${file}" _lines REGEX "^#include [<\"]")
  set(_r)
  foreach(l IN LISTS _lines)
    if(l MATCHES "^#include <([^>]+)>")
      list(APPEND _r "${CMAKE_MATCH_1}")
    elseif(l MATCHES "^#include \"([^\"]+)\"")
      set(_q "${CMAKE_MATCH_1}")
      foreach(d IN ITEMS "${_here}" ${_roots})
        if(EXISTS "${d}/${_q}")
          _ruleeval_system_includes("${d}/${_q}" _sub)
          list(APPEND _r ${_sub})
          break()
        endif()
      endforeach()
    endif()
  endforeach()
  list(REMOVE_DUPLICATES _r)
  set_property(GLOBAL PROPERTY "_rpch_done:${file}" "${_r}")
  set(${out} "${_r}" PARENT_SCOPE)
endfunction()

function(_ruleeval_target_pch_now target)
  get_target_property(_srcs ${target} SOURCES)
  get_target_property(_dir ${target} SOURCE_DIR)
  set(_cpp)
  foreach(s IN LISTS _srcs)
    if(s MATCHES "\\.cpp$")
      if(NOT IS_ABSOLUTE "${s}")
        set(s "${_dir}/${s}")
      endif()
      if(EXISTS "${s}")  # not a file generated at build time
        list(APPEND _cpp "${s}")
      endif()
    endif()
  endforeach()
  list(LENGTH _cpp _n)
  if(_n LESS 4)
    return()  # the precompiled header would cost about what it saves
  endif()
  # Every distinct <header> each source includes, directly or through the project's headers.
  set(_all)
  foreach(s IN LISTS _cpp)
    _ruleeval_system_includes("${s}" _hs)
    list(APPEND _all ${_hs})
  endforeach()
  set(_uniq ${_all})
  list(REMOVE_DUPLICATES _uniq)
  math(EXPR _min "(${_n} + 2) / 3")  # at least 2, as _n >= 4
  set(_pch)
  foreach(h IN LISTS _uniq)
    set(_skip FALSE)
    foreach(x IN LISTS RULEEVAL_PCH_EXCLUDE)
      if(h MATCHES "^${x}$")
        set(_skip TRUE)
      endif()
    endforeach()
    if(_skip)
      continue()
    endif()
    string(REPLACE "." "\\." _re "${h}")  # header names hold only [A-Za-z0-9_./+-]
    string(REPLACE "+" "\\+" _re "${_re}")
    set(_count ${_all})
    list(FILTER _count INCLUDE REGEX "^${_re}$")
    list(LENGTH _count _c)
    if(_c GREATER_EQUAL _min)
      list(APPEND _pch "<${h}>")
    endif()
  endforeach()
  if(_pch)
    target_precompile_headers(${target} PRIVATE ${_pch})
  endif()
endfunction()
