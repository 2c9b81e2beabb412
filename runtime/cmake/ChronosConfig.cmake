# find_package(Chronos): the embeddable runtime, target Chronos::runtime (a static library;
# its headers include the SDK's chronos/plugin.h, installed beside them).
include_guard(GLOBAL)
include(CMakeFindDependencyMacro)
find_dependency(Threads)
find_dependency(spdlog)
find_dependency(yaml-cpp)
include("${CMAKE_CURRENT_LIST_DIR}/ChronosTargets.cmake")
