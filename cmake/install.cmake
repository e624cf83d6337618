# Where `cmake --install` and the .deb put things (FHS). The project's default prefix is /usr,
# so an install is what the Debian package ships:
#   /usr/bin/{vigild,vigilctl}                 /etc/vigil/{vigil.yaml,cmdb.yaml,rules.d/,vigild.env}
#   /usr/share/vigil/web/board.html            /usr/lib/systemd/system/vigild.service
#   /usr/lib/sysusers.d/vigil.conf             /usr/lib/tmpfiles.d/vigil.conf
#   /usr/share/man/man{1,5,8}/…                /usr/share/doc/vigil/
# Config and unit depend on the prefix seen at install time (cpack installs with its own), so
# cmake/install-config.cmake writes them then: /etc and /var for the /usr prefix, PREFIX/etc and
# PREFIX/var otherwise.
include(GNUInstallDirs)

install(TARGETS vigild vigilctl RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
# The board is compiled into vigild; the file is installed for reverse proxies and reference.
install(FILES web/board.html DESTINATION ${CMAKE_INSTALL_DATADIR}/vigil/web)
install(FILES systemd/vigil.sysusers DESTINATION lib/sysusers.d RENAME vigil.conf)
install(FILES systemd/vigil.tmpfiles DESTINATION lib/tmpfiles.d RENAME vigil.conf)
install(FILES docs/man/vigild.8 DESTINATION ${CMAKE_INSTALL_MANDIR}/man8)
install(FILES docs/man/vigilctl.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
install(FILES docs/man/vigil-rules.5 DESTINATION ${CMAKE_INSTALL_MANDIR}/man5)
install(FILES README.md docs/rules.md docs/cmdb.md docs/syslog.md docs/kafka.md docs/board.md
        DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(CODE "set(VIGIL_SOURCE_DIR \"${PROJECT_SOURCE_DIR}\")\nset(VIGIL_BINARY_DIR \"${PROJECT_BINARY_DIR}\")")
install(SCRIPT cmake/install-config.cmake)
