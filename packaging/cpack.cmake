# Packages: `make package` (cpack in the build directory) writes a .deb, a .tar.gz and, when
# rpmbuild is installed, an .rpm. Everything installs under /usr; see install() in CMakeLists.txt.

set(CPACK_PACKAGE_NAME scalectl)
set(CPACK_PACKAGE_VENDOR "scalectl maintainers")
set(CPACK_PACKAGE_CONTACT "Seed b4d1f6ac maintainers <maintainers@users.noreply.b-seed-b4d1f6ac.example>")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "scale DigitalOcean droplets and apps from shells, cron and CI")
set(CPACK_PACKAGE_DESCRIPTION
    "scalectl resizes a DigitalOcean droplet vertically (power off, resize,\n\
power on), scales App Platform components, keeps one CPU and memory budget\n\
for the workers sharing a server, and autoscales from a metric: from a shell,\n\
cron, systemd timers or a CI step. Every change takes a lock, is written to\n\
an audit log, can be sent to webhooks and shows up in a Prometheus textfile.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_SOURCE_IGNORE_FILES "/build/;/\\\\.git/;/node_modules/")

# --- Debian ------------------------------------------------------------------------------
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "https://github.com/scalectl/scalectl")
# dpkg-shlibdeps finds libc6, libstdc++6, libgcc-s1, libfmt9 and libhiredis0.14 from the ELF
# NEEDED entries. libcurl is dlopen()ed on the first HTTP request, so it is named by hand; so is
# libssl3 (libssl.so.3 and libcrypto.so.3), dlopen()ed at the first rediss:// connection.
find_program(SCALECTL_DPKG_SHLIBDEPS dpkg-shlibdeps)
if(SCALECTL_DPKG_SHLIBDEPS)
  set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
  set(CPACK_DEBIAN_PACKAGE_DEPENDS "libcurl4 (>= 7.81)")
  string(APPEND CPACK_DEBIAN_PACKAGE_DEPENDS ", libssl3 (>= 3.0)")
  # droplet schedules read IANA zones from /usr/share/zoneinfo at run time (libdate-tz, USE_OS_TZDB).
  string(APPEND CPACK_DEBIAN_PACKAGE_DEPENDS ", tzdata")
else()
  set(CPACK_DEBIAN_PACKAGE_DEPENDS
      "libc6 (>= 2.36), libstdc++6 (>= 12), libgcc-s1 (>= 3.0), libfmt9 (>= 9.1), libhiredis0.14 (>= 0.14.1), libcurl4 (>= 7.81), libssl3 (>= 3.0), libdate-tz3, tzdata")
endif()
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "redis-server, prometheus-node-exporter")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${CMAKE_SOURCE_DIR}/packaging/debian/postinst ${CMAKE_SOURCE_DIR}/packaging/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)

# --- RPM (built when rpmbuild is installed; Debian's `rpm` package provides it) ----------
set(CPACK_RPM_FILE_NAME RPM-DEFAULT)
set(CPACK_RPM_PACKAGE_LICENSE "Proprietary")
set(CPACK_RPM_PACKAGE_GROUP "Applications/System")
set(CPACK_RPM_PACKAGE_URL ${CPACK_DEBIAN_PACKAGE_HOMEPAGE})
set(CPACK_RPM_PACKAGE_AUTOREQ ON)  # libc, libstdc++, fmt and hiredis from the ELF dependencies
set(CPACK_RPM_PACKAGE_REQUIRES "libcurl >= 7.81, openssl-libs >= 3.0")  # dlopen()ed, so not seen by find-requires
set(CPACK_RPM_POST_INSTALL_SCRIPT_FILE ${CMAKE_SOURCE_DIR}/packaging/rpm/post.sh)
set(CPACK_RPM_POST_UNINSTALL_SCRIPT_FILE ${CMAKE_SOURCE_DIR}/packaging/rpm/postun.sh)
set(CPACK_RPM_EXCLUDE_FROM_AUTO_FILELIST_ADDITION
    /usr/lib/systemd /usr/lib/systemd/system /usr/lib/sysusers.d
    /usr/share/bash-completion /usr/share/bash-completion/completions
    /usr/share/zsh /usr/share/zsh/vendor-completions
    /usr/share/fish /usr/share/fish/vendor_completions.d
    /usr/share/man /usr/share/man/man1)
set(CPACK_RPM_SPEC_MORE_DEFINE "%define _build_id_links none")

set(CPACK_GENERATOR DEB TGZ)
find_program(SCALECTL_RPMBUILD rpmbuild)
if(SCALECTL_RPMBUILD)
  list(APPEND CPACK_GENERATOR RPM)
endif()

include(CPack)
