# Runs a command and checks its exit code and output (used by tests/lint.cmake).
#   cmake -DCMD="prog|arg|arg" -DEXPECT=<rc> [-DMATCH=<regex>] [-DNOMATCH=<regex>]
#         [-DINPUT=<file for stdin>] [-DWORKDIR=<dir>] -P expect_exit.cmake
# CMD uses | between arguments. MATCH/NOMATCH apply to stdout+stderr.
string(REPLACE "|" ";" _cmd "${CMD}")
set(_opts)
if(DEFINED INPUT)
  list(APPEND _opts INPUT_FILE "${INPUT}")
endif()
if(DEFINED WORKDIR)
  list(APPEND _opts WORKING_DIRECTORY "${WORKDIR}")
endif()
execute_process(COMMAND ${_cmd} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err ${_opts})
set(all "${out}${err}")
if(NOT "${rc}" STREQUAL "${EXPECT}")
  message(FATAL_ERROR "exit code ${rc}, expected ${EXPECT}\n--- output:\n${all}")
endif()
if(DEFINED MATCH AND NOT all MATCHES "${MATCH}")
  message(FATAL_ERROR "output does not match '${MATCH}'\n--- output:\n${all}")
endif()
if(DEFINED NOMATCH AND all MATCHES "${NOMATCH}")
  message(FATAL_ERROR "output matches '${NOMATCH}'\n--- output:\n${all}")
endif()
