# `cmake --install` layout and the Debian package (CPack DEB; tools/package.sh builds it).
#   /usr/bin/ruleeval                          the binary
#   /etc/ruleeval/ruleeval.yaml                default configuration (conffile)
#   /etc/ruleeval/rules/watchdog.yaml          an always-firing Watchdog rule (conffile)
#   /etc/default/ruleeval                      extra flags for the service (conffile)
#   /lib/systemd/system/ruleeval.service       the hardened unit (ExecReload = SIGHUP)
#   /usr/share/man/man1/ruleeval.1.gz          man page generated from --help (help2man)
#   /usr/share/bash-completion/completions/ruleeval, /usr/share/zsh/vendor-completions/_ruleeval
#   /usr/share/doc/ruleeval/examples/          the example rules and the embedded demo
# The maintainer scripts (packaging/debian/) create the `ruleeval` system user and
# /var/lib/ruleeval (--state-dir), and remove both on purge.
include(GNUInstallDirs)
set(RULEEVAL_PKG_DIR ${CMAKE_SOURCE_DIR}/packaging)
set(RULEEVAL_GEN_DIR ${CMAKE_BINARY_DIR}/packaging)

install(TARGETS ruleeval RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
# /etc and /lib are absolute on purpose: a package's configuration and unit live there whatever
# the prefix (cmake --install --prefix /usr, as the package does).
install(FILES ${RULEEVAL_PKG_DIR}/ruleeval.yaml DESTINATION /etc/ruleeval)
install(FILES ${RULEEVAL_PKG_DIR}/watchdog.yaml DESTINATION /etc/ruleeval/rules)
install(FILES ${RULEEVAL_PKG_DIR}/default DESTINATION /etc/default RENAME ruleeval)
install(FILES ${RULEEVAL_PKG_DIR}/ruleeval.service DESTINATION /lib/systemd/system)
install(DIRECTORY ${CMAKE_SOURCE_DIR}/examples/ DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples)

# Shell completions and the man page, generated from the built binary's own command line.
add_custom_command(
  OUTPUT ${RULEEVAL_GEN_DIR}/ruleeval.bash ${RULEEVAL_GEN_DIR}/_ruleeval
  COMMAND ${CMAKE_COMMAND} -E make_directory ${RULEEVAL_GEN_DIR}
  COMMAND $<TARGET_FILE:ruleeval> completion bash > ${RULEEVAL_GEN_DIR}/ruleeval.bash
  COMMAND $<TARGET_FILE:ruleeval> completion zsh > ${RULEEVAL_GEN_DIR}/_ruleeval
  DEPENDS ruleeval
  COMMENT "shell completions")
set(_pkg_outputs ${RULEEVAL_GEN_DIR}/ruleeval.bash ${RULEEVAL_GEN_DIR}/_ruleeval)
find_program(RULEEVAL_HELP2MAN help2man)
if(RULEEVAL_HELP2MAN)
  add_custom_command(
    OUTPUT ${RULEEVAL_GEN_DIR}/ruleeval.1.gz
    COMMAND ${CMAKE_COMMAND} -E make_directory ${RULEEVAL_GEN_DIR}
    COMMAND ${CMAKE_SOURCE_DIR}/tools/manpage.sh $<TARGET_FILE:ruleeval> ${RULEEVAL_GEN_DIR}/ruleeval.1
    COMMAND gzip -9nf ${RULEEVAL_GEN_DIR}/ruleeval.1
    DEPENDS ruleeval ${CMAKE_SOURCE_DIR}/tools/manpage.sh
    COMMENT "man page (help2man)")
  list(APPEND _pkg_outputs ${RULEEVAL_GEN_DIR}/ruleeval.1.gz)
  install(FILES ${RULEEVAL_GEN_DIR}/ruleeval.1.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
else()
  message(STATUS "help2man not found: no man page (tools/bootstrap.sh installs it)")
endif()
add_custom_target(ruleeval_docs ALL DEPENDS ${_pkg_outputs})
install(FILES ${RULEEVAL_GEN_DIR}/ruleeval.bash DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions
        RENAME ruleeval)
install(FILES ${RULEEVAL_GEN_DIR}/_ruleeval DESTINATION ${CMAKE_INSTALL_DATADIR}/zsh/vendor-completions)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME ruleeval)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "ruleeval maintainers <ruleeval@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Alert rule evaluation engine for Prometheus-style rules")
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
    "Lints and unit-tests Prometheus alerting and recording rules (promtool-compatible), and\nevaluates them against a Prometheus-compatible backend, notifying through Alertmanager's\nreceivers with a durable outbox.")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # ruleeval_<version>_amd64.deb
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "prometheus, prometheus-alertmanager")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    "${RULEEVAL_PKG_DIR}/debian/postinst;${RULEEVAL_PKG_DIR}/debian/prerm;${RULEEVAL_PKG_DIR}/debian/postrm;${RULEEVAL_PKG_DIR}/debian/conffiles")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
include(CPack)
