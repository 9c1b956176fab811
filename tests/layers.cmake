# Source checks: the arrows between rooms, checked on the #include lines (tools/check_layers.py),
# and the Env seam (tools/check_env.py).
find_package(Python3 COMPONENTS Interpreter)
if(Python3_Interpreter_FOUND)
  add_test(NAME "layers: includes follow the arrows"
           COMMAND ${Python3_EXECUTABLE} ${CMAKE_SOURCE_DIR}/tools/check_layers.py ${CMAKE_SOURCE_DIR})
  set_tests_properties("layers: includes follow the arrows" PROPERTIES LABELS unit)
  # The Env seam (ruleeval/common/env.hpp): no direct clock reads, std::ifstream or file
  # operations (std::filesystem I/O, std::ofstream, fopen, raw ::open) in the rooms outside the
  # Env implementation (tools/check_env.py).
  add_test(NAME "env seam: clocks and file reads go through Env"
           COMMAND ${Python3_EXECUTABLE} ${CMAKE_SOURCE_DIR}/tools/check_env.py ${CMAKE_SOURCE_DIR})
  set_tests_properties("env seam: clocks and file reads go through Env" PROPERTIES LABELS unit)
  # The checker's own cases: what it must refuse (file I/O outside the Env) and what not (path
  # arithmetic, member functions named open, strings and comments).
  add_test(NAME "env seam: the checker refuses file I/O and allows path arithmetic"
           COMMAND ${Python3_EXECUTABLE} ${CMAKE_SOURCE_DIR}/tools/check_env.py --self-test)
  set_tests_properties("env seam: the checker refuses file I/O and allows path arithmetic"
                       PROPERTIES LABELS unit)
endif()
