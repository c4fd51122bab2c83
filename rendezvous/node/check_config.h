// `rendezvousd --check-config`: everything start-up checks before it binds a socket, without binding,
// creating or starting anything: the TLS certificate and key load, the data directory is (or can be made)
// a writable directory, and the node key and the auth-secret file, when present, can be read.
#pragma once

#include <optional>
#include <string>

#include "rendezvous/node/config.h"

namespace rdv::node {

// nullopt: start-up would get past its checks; else the message start-up would give (naming the key).
std::optional<std::string> checkStartup(const Config& config);

}  // namespace rdv::node
