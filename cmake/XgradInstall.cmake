# Install rules and the two ways a downstream project finds xgrad:
#   CMake:      find_package(xgrad REQUIRED)  ->  target_link_libraries(app PRIVATE xgrad::xgrad)
#   pkg-config: g++ app.cpp $(pkg-config --cflags --libs xgrad)
include(CMakePackageConfigHelpers)

set(XGRAD_INSTALL_CMAKEDIR "${CMAKE_INSTALL_LIBDIR}/cmake/xgrad" CACHE STRING "Where xgradConfig.cmake is installed")
mark_as_advanced(XGRAD_INSTALL_CMAKEDIR)

# The downstream name is xgrad::xgrad, the same as the in-tree alias.
set_target_properties(xgrad PROPERTIES EXPORT_NAME xgrad)
install(TARGETS xgrad EXPORT xgradTargets
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})

# Every module's public headers (and ops.def) land side by side under include/xgrad/<module>/,
# plus the umbrella header include/xgrad/xgrad.hpp.
file(GLOB module_header_dirs LIST_DIRECTORIES true "${CMAKE_CURRENT_SOURCE_DIR}/*/include/xgrad")
foreach(dir ${module_header_dirs})
  install(DIRECTORY "${dir}" DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
endforeach()
install(DIRECTORY "${CMAKE_CURRENT_SOURCE_DIR}/include/" DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})

install(EXPORT xgradTargets NAMESPACE xgrad:: FILE xgradTargets.cmake DESTINATION ${XGRAD_INSTALL_CMAKEDIR})

# A static xgrad carries its private dependencies (xtensor, OpenBLAS, zlib) into the link line of
# its users; the config then has to find them again. A shared one (the default) needs Threads only.
get_target_property(xgrad_library_type xgrad TYPE)
if(xgrad_library_type STREQUAL "STATIC_LIBRARY")
  set(XGRAD_STATIC ON)
else()
  set(XGRAD_STATIC OFF)
endif()
configure_package_config_file("${CMAKE_CURRENT_LIST_DIR}/xgradConfig.cmake.in"
                              "${CMAKE_CURRENT_BINARY_DIR}/xgradConfig.cmake"
                              INSTALL_DESTINATION ${XGRAD_INSTALL_CMAKEDIR})
write_basic_package_version_file("${CMAKE_CURRENT_BINARY_DIR}/xgradConfigVersion.cmake"
                                 VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES "${CMAKE_CURRENT_BINARY_DIR}/xgradConfig.cmake" "${CMAKE_CURRENT_BINARY_DIR}/xgradConfigVersion.cmake"
        DESTINATION ${XGRAD_INSTALL_CMAKEDIR})

# pkg-config. The prefix is found from the .pc file's own place (pkg-config's ${pcfiledir}), so the
# file stays right for `cmake --install --prefix <anywhere>` and for a moved tree.
file(RELATIVE_PATH XGRAD_PC_TO_PREFIX "/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/")
string(REGEX REPLACE "/$" "" XGRAD_PC_TO_PREFIX "${XGRAD_PC_TO_PREFIX}")
if(IS_ABSOLUTE "${CMAKE_INSTALL_INCLUDEDIR}")
  set(XGRAD_PC_INCLUDEDIR "${CMAKE_INSTALL_INCLUDEDIR}")
else()
  set(XGRAD_PC_INCLUDEDIR "\${prefix}/${CMAKE_INSTALL_INCLUDEDIR}")
endif()
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
  set(XGRAD_PC_LIBDIR "${CMAKE_INSTALL_LIBDIR}")
else()
  set(XGRAD_PC_LIBDIR "\${exec_prefix}/${CMAKE_INSTALL_LIBDIR}")
endif()
# Keep in step with the PRIVATE link libraries of xgrad in CMakeLists.txt (and xgradConfig.cmake.in).
set(XGRAD_PC_LIBS_PRIVATE "-lopenblas -lz -lm")
if(XGRAD_STATIC)
  set(XGRAD_PC_LIBS_EXTRA " ${XGRAD_PC_LIBS_PRIVATE}")  # a static archive needs them without --static too
else()
  set(XGRAD_PC_LIBS_EXTRA "")
endif()
configure_file("${CMAKE_CURRENT_LIST_DIR}/xgrad.pc.in" "${CMAKE_CURRENT_BINARY_DIR}/xgrad.pc" @ONLY)
install(FILES "${CMAKE_CURRENT_BINARY_DIR}/xgrad.pc" DESTINATION "${CMAKE_INSTALL_LIBDIR}/pkgconfig")
