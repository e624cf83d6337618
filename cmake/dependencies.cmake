# Every dependency comes from Debian 12 packages; see ../shared/DEPENDENCIES.md for the traps.
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)

find_path(ASIO_INCLUDE_DIR asio.hpp REQUIRED)
add_library(vigil_asio INTERFACE)
target_include_directories(vigil_asio SYSTEM INTERFACE ${ASIO_INCLUDE_DIR})
target_link_libraries(vigil_asio INTERFACE Threads::Threads)

find_package(fmt REQUIRED)          # before restinio: its config does not look fmt up
find_package(restinio REQUIRED)
find_package(yaml-cpp REQUIRED)     # target `yaml-cpp`, no namespace in 0.7
find_package(RocksDB REQUIRED)
find_package(prometheus-cpp REQUIRED)
find_package(simdjson REQUIRED)
find_package(nlohmann_json REQUIRED)
find_package(spdlog REQUIRED)
find_package(CLI11 REQUIRED)
find_package(date CONFIG REQUIRED)  # libhowardhinnant-date-dev: date::date-tz (libdate-tz.so, USE_OS_TZDB=1)
find_package(OpenSSL REQUIRED)
pkg_check_modules(RE2 REQUIRED IMPORTED_TARGET re2)
pkg_check_modules(RDKAFKA REQUIRED IMPORTED_TARGET rdkafka++)
pkg_check_modules(RDKAFKA_C REQUIRED IMPORTED_TARGET rdkafka)
pkg_check_modules(SYSTEMD REQUIRED IMPORTED_TARGET libsystemd)
pkg_check_modules(LIBYAML REQUIRED IMPORTED_TARGET yaml-0.1)  # libyaml-dev: the CMDB loader's parser
find_path(TL_EXPECTED_INCLUDE_DIR tl/expected.hpp REQUIRED)

find_package(CURL REQUIRED)  # vigilctl's HTTP client

# vigild's malloc: jemalloc when Debian's libjemalloc-dev is there (RocksDB recommends it; the
# correlator spends a quarter of its time in glibc malloc), the system one otherwise. Sanitized
# builds keep the system allocator: ASan must own malloc.
pkg_check_modules(JEMALLOC IMPORTED_TARGET jemalloc)
if(JEMALLOC_FOUND AND NOT VIGIL_SANITIZE)
  set(vigil_allocator_default jemalloc)
else()
  set(vigil_allocator_default system)
endif()
set(VIGIL_ALLOCATOR ${vigil_allocator_default} CACHE STRING "vigild's allocator: jemalloc or system")
set_property(CACHE VIGIL_ALLOCATOR PROPERTY STRINGS jemalloc system)
add_library(vigil_allocator INTERFACE)
if(VIGIL_ALLOCATOR STREQUAL "jemalloc")
  if(NOT JEMALLOC_FOUND)
    message(FATAL_ERROR "VIGIL_ALLOCATOR=jemalloc needs libjemalloc-dev (pkg-config jemalloc)")
  endif()
  if(VIGIL_SANITIZE)
    message(FATAL_ERROR "VIGIL_ALLOCATOR=jemalloc cannot be combined with VIGIL_SANITIZE (ASan replaces malloc)")
  endif()
  target_link_libraries(vigil_allocator INTERFACE PkgConfig::JEMALLOC)
  # daemon/main.cc then gives jemalloc vigild's options (malloc_conf).
  target_compile_definitions(vigil_allocator INTERFACE VIGIL_JEMALLOC=1)
elseif(NOT VIGIL_ALLOCATOR STREQUAL "system")
  message(FATAL_ERROR "VIGIL_ALLOCATOR must be jemalloc or system, not '${VIGIL_ALLOCATOR}'")
endif()
message(STATUS "vigild allocator: ${VIGIL_ALLOCATOR}")
if(VIGIL_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()
if(VIGIL_BUILD_BENCHMARKS)
  find_package(benchmark REQUIRED)
endif()
