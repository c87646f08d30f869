# fake_kaggle (README.md here, ../../shared/specs/kaggle-api.md) and the replay of the official
# Kaggle CLI's transcripts (transcripts/kaggle-*.jsonl) against it.
add_executable(fake_kaggle ${CMAKE_CURRENT_SOURCE_DIR}/fake_kaggle.cpp)
target_link_libraries(fake_kaggle PRIVATE gpuctl_fake_common)
