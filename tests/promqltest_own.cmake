# Our own promqltest scripts (tests/testdata/promqltest/*.test) for features the shared
# conformance data does not cover (experimental PromQL: anchored/smoothed selectors, info()),
# run through `ruleeval test` like the conformance scripts.
file(GLOB _own_promqltest CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/testdata/promqltest/*.test)
foreach(_f ${_own_promqltest})
  get_filename_component(_name ${_f} NAME_WE)
  add_test(NAME "promqltest: own ${_name}" COMMAND ruleeval test ${_f})
  set_tests_properties("promqltest: own ${_name}" PROPERTIES LABELS cli)
endforeach()
