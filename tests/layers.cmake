# The arrows between rooms, checked on the #include lines (tools/check_layers.py).
find_package(Python3 COMPONENTS Interpreter)
if(Python3_Interpreter_FOUND)
  add_test(NAME "layers: includes follow the arrows"
           COMMAND ${Python3_EXECUTABLE} ${CMAKE_SOURCE_DIR}/tools/check_layers.py ${CMAKE_SOURCE_DIR})
  set_tests_properties("layers: includes follow the arrows" PROPERTIES LABELS unit)
endif()
