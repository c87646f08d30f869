// SPDX-License-Identifier: MIT
// libgpuctl-tz.so: the time-zone database (howardhinnant-date over the system's tzdata) behind a
// small C interface. gpuctl loads it with dlopen the first time output or input needs a zone
// other than UTC, so that start-up loads neither libdate-tz nor the shared libstdc++ it needs
// (the gpuctl binary links libstdc++ statically). Every function catches all exceptions.
#include <date/tz.h>

#include <cstring>

namespace {

void
copy_out(const std::string& s, char* buf, size_t n)
{
  if (n > 0) {
    std::strncpy(buf, s.c_str(), n - 1);
    buf[n - 1] = '\0';
  }
}

} // namespace

extern "C" {

/// Looks up an IANA zone; 0 and *zone set, or -1 when unknown.
__attribute__((visibility("default"))) int
gpuctl_tz_locate(const char* name, const void** zone)
{
  try {
    *zone = date::locate_zone(name);
    return 0;
  } catch (...) {
    return -1;
  }
}

/// The system's zone (/etc/localtime); 0 with *zone and its name, or -1.
__attribute__((visibility("default"))) int
gpuctl_tz_current(const void** zone, char* name, size_t n)
{
  try {
    const date::time_zone* z = date::current_zone();
    *zone = z;
    copy_out(std::string(z->name()), name, n);
    return 0;
  } catch (...) {
    return -1;
  }
}

/// UTC offset (seconds) and abbreviation in force at `sys` (epoch seconds).
__attribute__((visibility("default"))) int
gpuctl_tz_sys_info(const void* zone, long long sys, long long* offset, char* abbrev, size_t n)
{
  try {
    auto info = static_cast<const date::time_zone*>(zone)->get_info(
        date::sys_seconds{std::chrono::seconds{sys}});
    *offset = info.offset.count();
    copy_out(info.abbrev, abbrev, n);
    return 0;
  } catch (...) {
    return -1;
  }
}

/// Classifies a local wall-clock time (seconds since the local epoch): returns 0 unique,
/// 1 nonexistent (DST gap), 2 ambiguous (repeated hour), -1 error; *first / *second are the
/// UTC offsets (seconds) of the earlier / later interpretation.
__attribute__((visibility("default"))) int
gpuctl_tz_local_info(const void* zone, long long local, long long* first, long long* second)
{
  try {
    auto info = static_cast<const date::time_zone*>(zone)->get_info(
        date::local_seconds{std::chrono::seconds{local}});
    *first = info.first.offset.count();
    *second = info.second.offset.count();
    switch (info.result) {
    case date::local_info::unique: return 0;
    case date::local_info::nonexistent: return 1;
    case date::local_info::ambiguous: return 2;
    }
    return -1;
  } catch (...) {
    return -1;
  }
}
}

extern "C" {

/// Calls `fn(name, arg)` for every zone name of the database (the names locate accepts, from the
/// system's tzdata), in the database's order; 0, or -1 when the database cannot be read.
__attribute__((visibility("default"))) int
gpuctl_tz_names(void (*fn)(const char* name, void* arg), void* arg)
{
  try {
    for (const auto& z : date::get_tzdb().zones) {
      fn(std::string(z.name()).c_str(), arg);
    }
    return 0;
  } catch (...) {
    return -1;
  }
}
}
