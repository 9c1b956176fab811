# ruleeval_room(<name> [PUBLIC deps...] [PRIVATE deps...]): one subsystem folder = one static
# library `ruleeval_<name>` (alias `ruleeval::<name>`) built from the folder's src/*.cpp, with the
# folder's include/ public and src/ private. A room sees only the rooms it links, so the build
# enforces the direction of the arrows (tools/check_layers.py checks the #includes as well).
function(ruleeval_room name)
  cmake_parse_arguments(ARG "" "" "PUBLIC;PRIVATE" ${ARGN})
  file(GLOB _srcs CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/src/*.cpp)
  add_library(ruleeval_${name} STATIC ${_srcs})
  add_library(ruleeval::${name} ALIAS ruleeval_${name})
  target_include_directories(ruleeval_${name} PUBLIC include PRIVATE src)
  target_link_libraries(ruleeval_${name} PUBLIC ${ARG_PUBLIC} PRIVATE ${ARG_PRIVATE})
  ruleeval_target_warnings(ruleeval_${name})
endfunction()

# Files left in a layer's old flat folders (e.g. engine/src, parser/include/ruleeval/parser) after
# the split into rooms are built by nothing: stop with a list, so they get moved into their room.
function(ruleeval_no_stray_files)
  set(_stray)
  foreach(dir ${ARGN})
    file(GLOB _f ${CMAKE_CURRENT_SOURCE_DIR}/${dir}/*)
    list(APPEND _stray ${_f})
  endforeach()
  if(_stray)
    list(JOIN _stray "\n  " _list)
    message(FATAL_ERROR "Files in a folder that is no longer built; move each into its room "
                        "(see ARCHITECTURE.md):\n  ${_list}")
  endif()
endfunction()
