# Shared code of the fake provider servers (README.md here): gpuctl_fake_common, linked by
# fake_vast and fake_kaggle. Debian's cpp-httplib is a compiled library whose header depends on
# the defines its .pc file exports (OpenSSL, zlib, brotli), so it is found through pkg-config.
pkg_check_modules(CPPHTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib)
find_package(Threads REQUIRED)

add_library(gpuctl_fake_common STATIC ${CMAKE_CURRENT_SOURCE_DIR}/fake_common.cpp)
target_include_directories(gpuctl_fake_common PUBLIC ${CMAKE_CURRENT_SOURCE_DIR})
target_link_libraries(gpuctl_fake_common PUBLIC PkgConfig::CPPHTTPLIB nlohmann_json::nlohmann_json
                      Threads::Threads)
