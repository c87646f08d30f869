# fake_dask (README.md here, ../../shared/specs/dask-http.md §7): the Dask scheduler's HTTP API
# over a scripted cluster, with recorded answers pinned per route.
add_executable(fake_dask ${CMAKE_CURRENT_SOURCE_DIR}/fake_dask.cpp)
target_link_libraries(fake_dask PRIVATE gpuctl_fake_common)
