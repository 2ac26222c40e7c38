# ctest case "downstream": install the built xgrad to a fresh prefix, then use it from outside
# the way a user would, both with find_package(xgrad) and with pkg-config.
#   cmake -DXGRAD_BUILD_DIR=... -DSOURCE_DIR=... -DWORK_DIR=... -DCXX=... -DLIBDIR=lib
#         [-DGENERATOR=...] [-DLAUNCHER=ccache] [-DEXTRA_FLAGS=...] [-DPKG_CONFIG=...] -P run_downstream.cmake
cmake_minimum_required(VERSION 3.25)

function(run what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "downstream: ${what} failed (${rc}):\n${ARGN}\n${out}\n${err}")
  endif()
  if(what MATCHES "^run")
    string(STRIP "${out}" out)
    message(STATUS "downstream: ${what}: ${out}")
  else()
    message(STATUS "downstream: ${what}: ok")
  endif()
endfunction()

set(prefix "${WORK_DIR}/prefix")
file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")

run("install to ${prefix}" "${CMAKE_COMMAND}" --install "${XGRAD_BUILD_DIR}" --prefix "${prefix}")

# The umbrella header, and all it includes, must not drag xtensor / xsimd / BLAS into user code
# (an opt-in interop header may: it is not part of the umbrella).
if(NOT EXISTS "${prefix}/include/xgrad/xgrad.hpp")
  message(FATAL_ERROR "downstream: the umbrella header xgrad/xgrad.hpp is not installed under ${prefix}/include")
endif()
execute_process(COMMAND "${CXX}" -std=c++20 -M -x c++ -I "${prefix}/include" "${prefix}/include/xgrad/xgrad.hpp"
                RESULT_VARIABLE rc OUTPUT_VARIABLE deps ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "downstream: the installed xgrad/xgrad.hpp does not preprocess on its own:\n${err}")
endif()
string(REGEX MATCHALL "[^ \t\n\\\\]*(xtensor|xsimd|xtl|cblas|openblas|lapack)[^ \t\n\\\\]*" private_deps "${deps}")
if(private_deps)
  list(REMOVE_DUPLICATES private_deps)
  message(FATAL_ERROR "downstream: xgrad/xgrad.hpp pulls private dependencies into user code: ${private_deps}")
endif()

# 1. CMake: find_package(xgrad) from the installed prefix.
set(configure_args -S "${SOURCE_DIR}" -B "${WORK_DIR}/build" "-DCMAKE_PREFIX_PATH=${prefix}"
    "-DCMAKE_CXX_COMPILER=${CXX}" -DCMAKE_BUILD_TYPE=Release "-DCMAKE_CXX_FLAGS=${EXTRA_FLAGS}"
    -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF)
if(GENERATOR)
  list(APPEND configure_args -G "${GENERATOR}")
endif()
if(LAUNCHER)
  list(APPEND configure_args "-DCMAKE_CXX_COMPILER_LAUNCHER=${LAUNCHER}")
endif()
run("configure with find_package(xgrad)" "${CMAKE_COMMAND}" ${configure_args})
file(STRINGS "${WORK_DIR}/build/CMakeCache.txt" found_dir REGEX "^xgrad_DIR:")
string(FIND "${found_dir}" "${prefix}" at)
if(at EQUAL -1)
  message(FATAL_ERROR "downstream: find_package(xgrad) found ${found_dir}, not the package in ${prefix}")
endif()
run("build" "${CMAKE_COMMAND}" --build "${WORK_DIR}/build")
run("run (find_package)" "${WORK_DIR}/build/downstream")

# 2. pkg-config: g++ main.cpp $(pkg-config --cflags --libs xgrad)
if(NOT PKG_CONFIG)
  find_program(PKG_CONFIG pkg-config REQUIRED)
endif()
set(ENV{PKG_CONFIG_PATH} "${prefix}/${LIBDIR}/pkgconfig")
execute_process(COMMAND "${PKG_CONFIG}" --cflags --libs xgrad RESULT_VARIABLE rc OUTPUT_VARIABLE pc_flags
                ERROR_VARIABLE err OUTPUT_STRIP_TRAILING_WHITESPACE)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "downstream: pkg-config --cflags --libs xgrad failed: ${err}")
endif()
string(FIND "${pc_flags}" "${prefix}" at)
if(at EQUAL -1)
  message(FATAL_ERROR "downstream: pkg-config gave '${pc_flags}', which does not point into ${prefix}")
endif()
separate_arguments(pc_flags UNIX_COMMAND "${pc_flags}")
separate_arguments(extra_flags UNIX_COMMAND "${EXTRA_FLAGS}")
# The rpath only lets the test run from the temporary prefix; users of /usr/local need none.
run("compile with pkg-config" "${CXX}" ${extra_flags} "${SOURCE_DIR}/main.cpp" -o "${WORK_DIR}/downstream_pc"
    ${pc_flags} "-Wl,-rpath,${prefix}/${LIBDIR}")
run("run (pkg-config)" "${WORK_DIR}/downstream_pc")
