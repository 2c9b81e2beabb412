# chronos_add_plugin(<target> <source>...)
#
# Builds a Chronos plugin from C or C++ sources: a MODULE library named <target>.so (no `lib`
# prefix) that exports nothing but chronos_plugin_entry, ready for chronos to dlopen.
# Built inside the Chronos source tree it lands in <build>/plugins/; elsewhere in the usual
# output folder. Either way set_target_properties(<target> PROPERTIES LIBRARY_OUTPUT_DIRECTORY
# ...) moves it. C++ plugins need C++20 for chronos/plugin.hpp.
include_guard(GLOBAL)

function(chronos_add_plugin target)
  if(NOT ARGN)
    message(FATAL_ERROR "chronos_add_plugin(${target}): no source files given")
  endif()
  add_library(${target} MODULE ${ARGN})
  target_link_libraries(${target} PRIVATE chronos::sdk)
  # Hidden visibility: the host must see only the entry function, and the plugin must not
  # interpose on the host's symbols or another plugin's.
  set_target_properties(${target} PROPERTIES
    PREFIX ""
    C_VISIBILITY_PRESET hidden
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)
  # GCC marks static locals of inline functions and template statics as GNU "unique" symbols,
  # which make dlclose a no-op: a reloaded plugin would keep running its old code.
  # (Clang emits no such symbols and has no such flag.)
  target_compile_options(${target} PRIVATE
    $<$<COMPILE_LANG_AND_ID:CXX,GNU>:-fno-gnu-unique>
    $<$<COMPILE_LANG_AND_ID:C,GNU>:-fno-gnu-unique>)
  # Hidden visibility does not cover what the C++ standard headers declare visible (such as
  # the static tables behind std::to_string): a version script keeps those local too.
  set(map "${CMAKE_BINARY_DIR}/chronos_plugin.map")
  file(CONFIGURE OUTPUT "${map}" CONTENT "{ global: chronos_plugin_entry; local: *; };\n")
  target_link_options(${target} PRIVATE "LINKER:--version-script=${map}")
  set_property(TARGET ${target} APPEND PROPERTY LINK_DEPENDS "${map}")
  get_property(output_directory GLOBAL PROPERTY CHRONOS_PLUGIN_OUTPUT_DIRECTORY)
  if(output_directory)
    set_target_properties(${target} PROPERTIES LIBRARY_OUTPUT_DIRECTORY "${output_directory}")
  endif()
endfunction()
