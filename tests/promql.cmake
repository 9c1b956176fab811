# The PromQL conformance corpus (parser_tests), also labelled `conformance`.
if(TARGET parser_tests)
  add_test(NAME "parser: PromQL conformance corpus parses and round-trips"
           COMMAND parser_tests
             "--test-case=every eval expression of the PromQL conformance corpus*")
  set_tests_properties("parser: PromQL conformance corpus parses and round-trips"
                       PROPERTIES LABELS conformance)
endif()
