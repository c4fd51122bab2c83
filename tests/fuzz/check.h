// The fuzz targets' one assertion: a broken invariant prints where and aborts, which libFuzzer reports as
// a crash (with the input saved) and the plain corpus driver as a failed test.
#pragma once

#include <cstdio>
#include <cstdlib>

#define FUZZ_CHECK(cond)                                                                      \
  do {                                                                                        \
    if (!(cond)) {                                                                            \
      std::fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__, #cond);       \
      std::abort();                                                                           \
    }                                                                                         \
  } while (0)
