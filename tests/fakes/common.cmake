# Shared code of the fake provider servers (README.md here): gpuctl_fake_common, linked by
# fake_vast and fake_kaggle. Debian's cpp-httplib is a compiled library whose header depends on
# the defines its .pc file exports (OpenSSL, zlib, brotli), so it is found through pkg-config.
pkg_check_modules(CPPHTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib)
find_package(Threads REQUIRED)

add_library(gpuctl_fake_common STATIC ${CMAKE_CURRENT_SOURCE_DIR}/fake_common.cpp)
target_include_directories(gpuctl_fake_common PUBLIC ${CMAKE_CURRENT_SOURCE_DIR})
target_link_libraries(gpuctl_fake_common PUBLIC PkgConfig::CPPHTTPLIB nlohmann_json::nlohmann_json
                      Threads::Threads)

# The fake vast.ai server (README.md "fake_vast specifics").
add_executable(fake_vast ${CMAKE_CURRENT_SOURCE_DIR}/fake_vast.cpp)
target_link_libraries(fake_vast PRIVATE gpuctl_fake_common)

# fake_replay: replays transcripts/*.jsonl against a running fake (replay.cpp).
add_executable(fake_replay ${CMAKE_CURRENT_SOURCE_DIR}/replay.cpp)
target_link_libraries(fake_replay PRIVATE PkgConfig::CPPHTTPLIB nlohmann_json::nlohmann_json
                      Threads::Threads)

# gpuctl_add_transcript_replays(FAKE_TARGET NAME GLOB): one CTest test per transcript matching
# GLOB ("fakes: NAME transcript X replays", X = file name without the "NAME-" prefix and .jsonl),
# replayed by fake_replay against one FAKE_TARGET started in --daemon mode by a fixture
# (setup: start, cleanup: POST /__control/shutdown); a RESOURCE_LOCK keeps the replays serial,
# since each one resets the shared fake.
function(gpuctl_add_transcript_replays fake_target name glob)
  set(port_file ${CMAKE_CURRENT_BINARY_DIR}/${fake_target}-replay.port)
  set(fixture ${fake_target}_replay)
  add_test(NAME "fakes: ${name} replay server starts"
    COMMAND $<TARGET_FILE:${fake_target}> --daemon --port-file ${port_file})
  add_test(NAME "fakes: ${name} replay server stops"
    COMMAND $<TARGET_FILE:fake_replay> --port-file ${port_file} --shutdown)
  set_tests_properties("fakes: ${name} replay server starts" PROPERTIES
    FIXTURES_SETUP ${fixture} RESOURCE_LOCK ${fixture})
  set_tests_properties("fakes: ${name} replay server stops" PROPERTIES
    FIXTURES_CLEANUP ${fixture} RESOURCE_LOCK ${fixture})
  file(GLOB transcripts CONFIGURE_DEPENDS ${glob})
  foreach(transcript IN LISTS transcripts)
    get_filename_component(stem ${transcript} NAME_WE)
    string(REGEX REPLACE "^${name}-" "" short ${stem})
    set(test "fakes: ${name} transcript ${short} replays")
    add_test(NAME "${test}"
      COMMAND $<TARGET_FILE:fake_replay> --port-file ${port_file} ${transcript})
    set_tests_properties("${test}" PROPERTIES
      FIXTURES_REQUIRED ${fixture} RESOURCE_LOCK ${fixture} TIMEOUT 60)
  endforeach()
endfunction()

gpuctl_add_transcript_replays(fake_vast vast ${CMAKE_CURRENT_SOURCE_DIR}/transcripts/vast-*.jsonl)
