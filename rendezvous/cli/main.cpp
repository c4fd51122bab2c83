// rdv: the rendezvous client. Subcommands are registered by the files beside this one.
#include <CLI/CLI.hpp>

#include <iostream>

#include "rendezvous/cli/subcommands.h"

namespace rdv::cli {
int& exitCode() {
  static int code = 0;
  return code;
}
}  // namespace rdv::cli

int main(int argc, char** argv) {
  CLI::App app{"rdv: client for rendezvous nodes (STUN, NAT type, registry, signalling, relay reports)"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "rdv 0.1.0");
  // Subcommand registrations (one line per command family).
  rdv::cli::addStunCommands(app);
  rdv::cli::addEnrCommands(app);
  rdv::cli::addEthereumKeyCommands(app);
  rdv::cli::addRegistryCommands(app);
  rdv::cli::addIceCommands(app);
  rdv::cli::addSignalCommands(app);
#ifdef RDV_HAVE_AGENT
  rdv::cli::addAgentCommands(app);
#endif
  rdv::cli::addReportCommands(app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version print and exit 0; any other parse error is a usage error: one line, exit 2.
    if (e.get_exit_code() == static_cast<int>(CLI::ExitCodes::Success)) return app.exit(e);
    std::cerr << "rdv: " << e.what() << " (see --help)\n";
    return 2;
  }
  return rdv::cli::exitCode();
}
