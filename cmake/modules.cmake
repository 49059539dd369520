# The module table of DESIGN.md, as the build enforces it. Each module is its own static
# library, linked to the modules and libraries of its row and no others; a source file or public
# header that includes anything else fails the build (cmake/check_module_includes.cmake).
# Every module may use fmt and Boost.JSON, which come with base's types.

set(VOUCH_LIB_Boost.JSON Boost::json)
set(VOUCH_LIB_Boost.Asio Boost::headers Threads::Threads)
set(VOUCH_LIB_Boost.URL Boost::url)
set(VOUCH_LIB_fmt fmt::fmt)
set(VOUCH_LIB_OpenSSL OpenSSL::Crypto)
set(VOUCH_LIB_OpenSSL.SSL OpenSSL::SSL)
set(VOUCH_LIB_libsodium PkgConfig::SODIUM)
set(VOUCH_LIB_libcurl CURL::libcurl)
set(VOUCH_LIB_yaml-cpp yaml-cpp)
set(VOUCH_LIB_RE2 PkgConfig::RE2)
set(VOUCH_LIB_libarchive PkgConfig::LIBARCHIVE)
set(VOUCH_LIB_SQLite PkgConfig::SQLITE3)
set(VOUCH_LIB_libpq PkgConfig::PQ)
set(VOUCH_LIB_zlib ZLIB::ZLIB)
# isa-l (igzip): gzip layers inflate at about twice zlib's speed.
pkg_check_modules(ISAL REQUIRED IMPORTED_TARGET libisal)
set(VOUCH_LIB_isa-l PkgConfig::ISAL)

set(VOUCH_MODULES "")

# vouch_module(NAME USES module… LIBS library…)
function(vouch_module name)
  cmake_parse_arguments(M "" "" "USES;LIBS" ${ARGN})
  set(libs fmt Boost.JSON ${M_LIBS})

  # Only this module's public headers are reachable through its include root.
  set(root ${CMAKE_BINARY_DIR}/module-include/${name})
  file(MAKE_DIRECTORY ${root}/vouch)
  file(CREATE_LINK ${CMAKE_SOURCE_DIR}/include/vouch/${name} ${root}/vouch/${name} SYMBOLIC)

  file(GLOB sources CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/src/vouch/${name}/*.cc)
  file(GLOB headers CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/src/vouch/${name}/*.h
                                      ${CMAKE_SOURCE_DIR}/include/vouch/${name}/*.h)
  set(stamp ${CMAKE_BINARY_DIR}/module-check/${name}.stamp)
  add_custom_command(
    OUTPUT ${stamp}
    COMMAND ${CMAKE_COMMAND} -DMODULE=${name} "-DALLOWED=${M_USES}" "-DLIBS=${libs}"
            "-DFILES=${sources};${headers}" -DSTAMP=${stamp}
            -P ${CMAKE_SOURCE_DIR}/cmake/check_module_includes.cmake
    DEPENDS ${sources} ${headers} ${CMAKE_SOURCE_DIR}/cmake/check_module_includes.cmake
            ${CMAKE_SOURCE_DIR}/cmake/modules.cmake
    COMMENT "Checking the includes of module ${name}"
    VERBATIM)

  add_library(vouch_${name} STATIC ${sources} ${stamp})
  set_target_properties(vouch_${name} PROPERTIES OUTPUT_NAME vouch_${name})
  target_include_directories(vouch_${name} PUBLIC ${root})
  foreach(dep IN LISTS M_USES)
    if(NOT TARGET vouch_${dep})
      message(FATAL_ERROR "module ${name} uses ${dep}, which must be declared before it")
    endif()
    target_link_libraries(vouch_${name} PUBLIC vouch_${dep})
  endforeach()
  foreach(lib IN LISTS libs)
    if(NOT DEFINED VOUCH_LIB_${lib})
      message(FATAL_ERROR "module ${name}: unknown library ${lib}")
    endif()
    target_link_libraries(vouch_${name} PUBLIC ${VOUCH_LIB_${lib}})
  endforeach()
  set(VOUCH_MODULES ${VOUCH_MODULES} vouch_${name} PARENT_SCOPE)
endfunction()

# Lowest first; a module may use only modules declared above it.
vouch_module(base)
vouch_module(cel       USES base                               LIBS RE2)
vouch_module(crypto    USES base                               LIBS OpenSSL libsodium)
vouch_module(net       USES base                               LIBS libcurl Boost.Asio Boost.URL OpenSSL.SSL)
vouch_module(db        USES base                               LIBS SQLite libpq)
vouch_module(intoto    USES base crypto)
vouch_module(tuf       USES base crypto net)
vouch_module(oci       USES base crypto net                    LIBS libarchive isa-l RE2 Boost.URL)
vouch_module(notation  USES base crypto oci                    LIBS OpenSSL)
vouch_module(sbom      USES base oci                           LIBS libarchive RE2 SQLite zlib)
vouch_module(vuln      USES base sbom db                       LIBS libarchive RE2)
vouch_module(inventory USES base oci sbom vuln db net)
vouch_module(tlog      USES base crypto net intoto db          LIBS Boost.Asio)
vouch_module(sigstore  USES base crypto net intoto tlog        LIBS RE2)
vouch_module(ca        USES base crypto net tlog db)
vouch_module(cosign    USES base crypto oci intoto tlog sigstore)
vouch_module(slsa      USES base crypto oci intoto sigstore cosign)
vouch_module(policy    USES base crypto oci cel                LIBS yaml-cpp RE2 OpenSSL zlib)
vouch_module(verifiers USES base crypto oci sigstore cosign policy notation)
vouch_module(admission USES base net db policy)
vouch_module(ui        USES base crypto net policy sbom inventory tlog admission)
