# CPack: `cpack --config build/CPackConfig.cmake` (or `cmake --build build --target package`)
# builds packages/vigil_VERSION_ARCH.deb. Depends come from dpkg-shlibdeps on the binaries; the
# maintainer scripts in packaging/debian/ create the user and directories, enable the unit
# (without starting it on a first install) and leave /var/lib/vigil alone unless purged.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME vigil)
set(CPACK_PACKAGE_VENDOR "vigil")
set(CPACK_PACKAGE_CONTACT "vigil maintainers <vigil@example.invalid>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "event-management daemon: infrastructure events to incidents")
set(CPACK_PACKAGE_DESCRIPTION "vigild receives events from syslog, Kafka and HTTP, binds them to CMDB\n\
configuration items, runs rules over them and opens and resolves incidents, kept in RocksDB,\n\
with a JSON API, a live board and Prometheus metrics. vigilctl operates it.")
set(CPACK_PACKAGE_DIRECTORY ${PROJECT_BINARY_DIR}/packages)
# Install with the final prefix under DESTDIR, so cmake/install-config.cmake sees /usr and
# writes /etc/vigil.
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_INSTALL_PREFIX /usr)  # what the install scripts see as CMAKE_INSTALL_PREFIX with DESTDIR
set(CPACK_SET_DESTDIR ON)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# The postinst creates the user with systemd-sysusers, or adduser where systemd is not installed.
set(CPACK_DEBIAN_PACKAGE_DEPENDS "systemd | adduser")

file(GLOB vigil_rule_files RELATIVE ${PROJECT_SOURCE_DIR}/config/rules.d ${PROJECT_SOURCE_DIR}/config/rules.d/*.yaml)
set(vigil_conffiles "/etc/vigil/vigil.yaml\n/etc/vigil/cmdb.yaml\n/etc/vigil/vigild.env\n")
foreach(f IN LISTS vigil_rule_files)
  string(APPEND vigil_conffiles "/etc/vigil/rules.d/${f}\n")
endforeach()
file(WRITE ${PROJECT_BINARY_DIR}/packaging/conffiles "${vigil_conffiles}")
foreach(script postinst prerm postrm)
  configure_file(${PROJECT_SOURCE_DIR}/packaging/debian/${script} ${PROJECT_BINARY_DIR}/packaging/${script}
                 COPYONLY FILE_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE
                 WORLD_READ WORLD_EXECUTE)
endforeach()
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${PROJECT_BINARY_DIR}/packaging/conffiles ${PROJECT_BINARY_DIR}/packaging/postinst
    ${PROJECT_BINARY_DIR}/packaging/prerm ${PROJECT_BINARY_DIR}/packaging/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
