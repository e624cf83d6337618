# Runs at install time (cmake --install, cpack): installs the config files and the systemd unit
# with the paths of the prefix being installed to. VIGIL_SOURCE_DIR and VIGIL_BINARY_DIR are set by cmake/install.cmake.
if(CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  set(vigil_etc "/etc/vigil")
  set(vigil_state "/var/lib/vigil")
else()
  set(vigil_etc "${CMAKE_INSTALL_PREFIX}/etc/vigil")
  set(vigil_state "${CMAKE_INSTALL_PREFIX}/var/lib/vigil")
endif()
string(RANDOM LENGTH 10 stage_id)  # installs may run side by side (tests)
set(stage "${VIGIL_BINARY_DIR}/vigil-install-stage/${stage_id}")
file(MAKE_DIRECTORY "${stage}")

# The shipped config with its data in the state directory; rules and CMDB stay relative to the
# config file, so they resolve to ${vigil_etc}.
file(READ "${VIGIL_SOURCE_DIR}/config/vigil.yaml" config)
string(REPLACE "data_dir: ./vigil-data" "data_dir: ${vigil_state}" installed "${config}")
if(installed STREQUAL config)
  message(FATAL_ERROR "config/vigil.yaml has no 'data_dir: ./vigil-data' line to point at ${vigil_state}")
endif()
string(REPLACE "data in ./vigil-data" "data in ${vigil_state}" installed "${installed}")
file(WRITE "${stage}/vigil.yaml" "${installed}")

file(READ "${VIGIL_SOURCE_DIR}/systemd/vigild.service" unit)
string(REPLACE "/usr/bin/vigild" "${CMAKE_INSTALL_PREFIX}/bin/vigild" unit "${unit}")
string(REPLACE "/etc/vigil/" "${vigil_etc}/" unit "${unit}")
string(REPLACE "/var/lib/vigil" "${vigil_state}" unit "${unit}")
file(WRITE "${stage}/vigild.service" "${unit}")

file(INSTALL "${stage}/vigil.yaml" "${VIGIL_SOURCE_DIR}/config/cmdb.yaml" DESTINATION "${vigil_etc}")
file(INSTALL "${VIGIL_SOURCE_DIR}/config/vigild.env" DESTINATION "${vigil_etc}"
     PERMISSIONS OWNER_READ OWNER_WRITE)
file(INSTALL "${VIGIL_SOURCE_DIR}/config/rules.d" DESTINATION "${vigil_etc}" FILES_MATCHING PATTERN "*.yaml")
file(INSTALL "${stage}/vigild.service" DESTINATION "${CMAKE_INSTALL_PREFIX}/lib/systemd/system")
file(REMOVE_RECURSE "${stage}")
