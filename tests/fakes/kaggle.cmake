# fake_kaggle (README.md here, ../../shared/specs/kaggle-api.md) and the replay of the official
# Kaggle CLI's transcripts (transcripts/kaggle-*.jsonl) against it.
add_executable(fake_kaggle ${CMAKE_CURRENT_SOURCE_DIR}/fake_kaggle.cpp)
target_link_libraries(fake_kaggle PRIVATE gpuctl_fake_common)

# One fake_kaggle for all replays (fixture): started as a daemon that writes its port file, stopped
# by POST /__control/shutdown. Each replay resets it first; the resource lock keeps them apart.
set(FAKE_KAGGLE_PORT_FILE ${CMAKE_CURRENT_BINARY_DIR}/fake_kaggle.port)
add_test(NAME "fakes: kaggle fake starts"
  COMMAND $<TARGET_FILE:fake_kaggle> --daemon --port-file ${FAKE_KAGGLE_PORT_FILE})
set_tests_properties("fakes: kaggle fake starts" PROPERTIES
  FIXTURES_SETUP fake_kaggle RESOURCE_LOCK fake_kaggle)
add_test(NAME "fakes: kaggle fake stops"
  COMMAND $<TARGET_FILE:fake_replay> --port-file ${FAKE_KAGGLE_PORT_FILE} --shutdown)
set_tests_properties("fakes: kaggle fake stops" PROPERTIES
  FIXTURES_CLEANUP fake_kaggle RESOURCE_LOCK fake_kaggle)

file(GLOB KAGGLE_TRANSCRIPTS CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/transcripts/kaggle-*.jsonl)
foreach(transcript IN LISTS KAGGLE_TRANSCRIPTS)
  string(REGEX REPLACE "^.*/kaggle-(.*)\\.jsonl$" "\\1" name ${transcript})
  add_test(NAME "fakes: kaggle transcript ${name} replays"
    COMMAND $<TARGET_FILE:fake_replay> --port-file ${FAKE_KAGGLE_PORT_FILE} ${transcript})
  set_tests_properties("fakes: kaggle transcript ${name} replays" PROPERTIES
    FIXTURES_REQUIRED fake_kaggle RESOURCE_LOCK fake_kaggle)
endforeach()
