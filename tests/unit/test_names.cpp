#include "gpuctl/core/error.hpp"
#include "gpuctl/core/names.hpp"

#include <doctest/doctest.h>

#include <vector>

using namespace gpuctl;

TEST_CASE("names follow DESIGN §9")
{
  CHECK_NOTHROW(validate_name("alice", "account"));
  CHECK_NOTHROW(validate_name("k1.gpu_2-x", "worker"));
  CHECK_NOTHROW(validate_name(std::string(64, 'a'), "worker"));
  for (std::string bad : {std::string(""), std::string("-x"), std::string(".x"), std::string("a b"),
                          std::string("a/b"), std::string(65, 'a'), std::string("list"),
                          std::string("add"), std::string("status"), std::string("é")}) {
    CAPTURE(bad);
    CHECK_THROWS_AS(validate_name(bad, "worker"), Error);
  }
}

TEST_CASE("providers and did-you-mean")
{
  CHECK(parse_provider("kaggle") == Provider::kaggle);
  CHECK(to_string(Provider::vast) == "vast");
  try {
    parse_provider("kagle");
    FAIL("accepted");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::usage);
    CHECK(std::string(e.what()).find("did you mean 'kaggle'") != std::string::npos);
  }
  std::vector<std::string_view> words{"worker", "account", "status"};
  CHECK(did_you_mean("wroker", words) == "worker");
  CHECK(did_you_mean("zzzzzz", words).empty());
}
