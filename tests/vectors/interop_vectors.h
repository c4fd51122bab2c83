// The interop vectors shared with the JavaScript package (signalling/web): every format a browser
// must speak byte for byte with the C++ side. interopVectors() computes them with the C++ code;
// rdv-make-interop-vectors prints them (the committed tests/vectors/interop.json was made so), the
// GoogleTest checks the committed file still equals what the C++ computes, and `npm test` checks the
// JavaScript against the same file.
#pragma once

#include <nlohmann/json.hpp>

namespace rdv::vectors {

nlohmann::json interopVectors();

}  // namespace rdv::vectors
