# Install rules and the Debian package (docs/operator.md, "Install from the package").
#   cmake --install build --prefix /usr        rendezvousd and rdv in bin/, the config in /etc/rendezvous,
#                                              the systemd unit in lib/systemd/system
#   cpack -G DEB --config build/CPackConfig.cmake  (or scripts/package.sh)  -> rendezvous_<version>_<arch>.deb
# cpack packages what the build directory holds (scripts/package.sh builds first): no rebuild of every target.
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY ON)
install(TARGETS rendezvousd RUNTIME DESTINATION bin)
if(TARGET rdv)
  install(TARGETS rdv RUNTIME DESTINATION bin)
endif()
# The configuration is a conffile: absolute, so it lands in /etc whatever the prefix (dpkg keeps local edits).
install(FILES ${PROJECT_SOURCE_DIR}/configs/node.json DESTINATION /etc/rendezvous PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ)
install(FILES ${PROJECT_SOURCE_DIR}/configs/rendezvousd.service DESTINATION lib/systemd/system)
install(FILES ${PROJECT_SOURCE_DIR}/docs/operator.md ${PROJECT_SOURCE_DIR}/configs/grafana-dashboard.json
              ${PROJECT_SOURCE_DIR}/configs/prometheus-alerts.yml
        DESTINATION share/doc/rendezvous)

set(CPACK_PACKAGE_NAME rendezvous)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "rendezvous maintainers <rendezvous@example.org>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "rendezvous node: STUN, metered TURN relay, ENR registry and signalling hub")
set(CPACK_PACKAGE_INSTALL_DIRECTORY /usr)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_GENERATOR DEB)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# The shared libraries' packages (libuv1, libssl3, libsecp256k1-1, libnice10, libwebsockets17, ...) are found by
# dpkg-shlibdeps from the binaries; adduser is for the postinst.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${PROJECT_SOURCE_DIR}/cmake/deb/postinst ${PROJECT_SOURCE_DIR}/cmake/deb/postrm
    ${PROJECT_SOURCE_DIR}/cmake/deb/conffiles)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
