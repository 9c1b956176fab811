# PromQL conformance: Prometheus's promqltest scripts (read from the shared folder, never copied
# into the repo), run through `ruleeval test` with the commented skip list of native-histogram
# evals. One ctest per script so that the pass count per file shows up in the ctest output.
file(GLOB _promqltest_files ${RULEEVAL_SHARED_DIR}/conformance/promqltest/*.test)
foreach(_f ${_promqltest_files})
  get_filename_component(_name ${_f} NAME_WE)
  add_test(NAME "conformance: promqltest ${_name}"
           COMMAND ruleeval test --skip ${CMAKE_CURRENT_SOURCE_DIR}/promqltest_skip.txt ${_f})
  set_tests_properties("conformance: promqltest ${_name}" PROPERTIES LABELS conformance)
endforeach()
