// Each family of rdv subcommands registers itself on the top-level CLI::App.
#pragma once

namespace CLI {
class App;
}

namespace rdv::cli {

// Each returns after adding its subcommands; a subcommand's callback sets the process exit code via
// exitCode() and prints its own errors to stderr.
int& exitCode();

void addStunCommands(CLI::App& app);  // rdv stun, rdv nat-type
void addEnrCommands(CLI::App& app);   // rdv key new, rdv enr encode|decode|verify
void addEthereumKeyCommands(CLI::App& app);  // rdv key address, rdv key import (after addEnrCommands)
void addRegistryCommands(CLI::App& app);  // rdv register, discover, unregister, node-info
void addIceCommands(CLI::App& app);       // rdv ice-servers
void addSignalCommands(CLI::App& app);    // rdv send, rdv inbox
void addAgentCommands(CLI::App& app);     // rdv listen, connect, call (when built with libnice)
void addReportCommands(CLI::App& app);    // rdv report

}  // namespace rdv::cli
