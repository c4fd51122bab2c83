#include "rendezvous/enr/rdv_keys.h"

#include <array>

namespace rdv::enr {
namespace {

constexpr std::array<std::string_view, 3> kMappingNames = {"eim", "adm", "apdm"};
constexpr std::array<std::string_view, 3> kFilteringNames = {"eif", "adf", "apdf"};

template <class E>
std::optional<E> lookup(const std::array<std::string_view, 3>& names, std::string_view token) {
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i] == token) return static_cast<E>(i);
  }
  return std::nullopt;
}

}  // namespace

std::string formatNatType(const NatType& nat) {
  std::string out(kMappingNames[static_cast<size_t>(nat.mapping)]);
  out += '/';
  out += kFilteringNames[static_cast<size_t>(nat.filtering)];
  return out;
}

std::optional<NatType> parseNatType(std::string_view text) {
  const size_t slash = text.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  auto mapping = lookup<NatMapping>(kMappingNames, text.substr(0, slash));
  auto filtering = lookup<NatFiltering>(kFilteringNames, text.substr(slash + 1));
  if (!mapping || !filtering) return std::nullopt;
  return NatType{*mapping, *filtering};
}

}  // namespace rdv::enr
