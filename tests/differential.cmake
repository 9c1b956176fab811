# The differential harness against real promtool 2.42: a short seeded slice (tools/differential.sh
# --long N runs a deeper search). Skipped (77) when promtool is not installed.
add_test(NAME "differential: ruleeval vs promtool 2.42 (seeded slice)"
         COMMAND python3 ${CMAKE_CURRENT_SOURCE_DIR}/differential/harness.py
                 --ruleeval $<TARGET_FILE:ruleeval> --shared ${RULEEVAL_SHARED_DIR}
                 --cases 60 --seed 1)
set_tests_properties("differential: ruleeval vs promtool 2.42 (seeded slice)" PROPERTIES
  LABELS "differential;integration" TIMEOUT 120 SKIP_RETURN_CODE 77)
