# find_package(ChronosSDK): the target chronos::sdk (the plugin headers) and the function
# chronos_add_plugin(<target> <source>...) that builds a loadable plugin.
include_guard(GLOBAL)
include("${CMAKE_CURRENT_LIST_DIR}/ChronosSDKTargets.cmake")
include("${CMAKE_CURRENT_LIST_DIR}/ChronosPlugin.cmake")
