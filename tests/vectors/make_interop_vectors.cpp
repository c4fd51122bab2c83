// Prints the interop vectors (tests/vectors/interop.json) as the C++ code computes them.
#include <iostream>

#include "tests/vectors/interop_vectors.h"

int main() {
  std::cout << rdv::vectors::interopVectors().dump(2) << "\n";
  return 0;
}
