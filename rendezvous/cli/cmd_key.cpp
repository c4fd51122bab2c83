// rdv key address, rdv key import: Ethereum accounts as rdv identities (issue 17). The address is
// EIP-55 checksummed (rendezvous/identity/eth_address.h); import reads a keystore v3 file
// (rendezvous/identity/keystore.h) and writes rdv's own key file.
#include <CLI/CLI.hpp>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <termios.h>
#include <unistd.h>

#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>

#include "rendezvous/cli/subcommands.h"
#include "rendezvous/identity/eth_address.h"
#include "rendezvous/identity/keystore.h"
#include "rendezvous/identity/private_key.h"

namespace rdv::cli {

namespace {

constexpr size_t kMaxKeystoreBytes = 64 * 1024;  // a keystore is ~500 bytes
constexpr size_t kMaxPasswordBytes = 4096;

int fail(const std::string& command, const std::string& message, int code = 1) {
  std::cerr << "rdv " << command << ": " << message << "\n";
  return code;
}

// Wipes its string when it goes out of scope.
struct Secret {
  std::string text;
  ~Secret() { OPENSSL_cleanse(text.data(), text.size()); }
};

bool readSmallFile(const std::string& path, size_t limit, std::string& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  out.assign(limit + 1, '\0');
  in.read(out.data(), static_cast<std::streamsize>(out.size()));
  out.resize(static_cast<size_t>(in.gcount()));
  return !in.bad();
}

// The password file's first line (geth's --password convention), without its line ending.
std::optional<std::string> passwordFromFile(const std::string& path, std::string& error) {
  Secret raw;
  if (!readSmallFile(path, kMaxPasswordBytes, raw.text)) {
    error = "--password-file " + path + ": cannot read it";
    return std::nullopt;
  }
  if (raw.text.size() > kMaxPasswordBytes) {
    error = "--password-file " + path + ": longer than 4096 bytes";
    return std::nullopt;
  }
  const size_t end = raw.text.find_first_of("\r\n");
  return raw.text.substr(0, end);
}

// Asks on the terminal with echo off; nullopt when there is no terminal.
std::optional<std::string> passwordFromPrompt(const std::string& keystore) {
  const int fd = ::open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  const std::string prompt = "Password for " + keystore + ": ";
  (void)!::write(fd, prompt.data(), prompt.size());
  termios saved{};
  const bool restore = tcgetattr(fd, &saved) == 0;
  if (restore) {
    termios quiet = saved;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    tcsetattr(fd, TCSAFLUSH, &quiet);
  }
  std::string password;
  char c = 0;
  while (password.size() <= kMaxPasswordBytes && ::read(fd, &c, 1) == 1 && c != '\n' && c != '\r') password.push_back(c);
  if (restore) tcsetattr(fd, TCSAFLUSH, &saved);
  (void)!::write(fd, "\n", 1);
  ::close(fd);
  return password;
}

int printAddress(const std::string& keyFile) {
  auto key = identity::PrivateKey::load(keyFile);
  if (!key) return fail("key address", "--key " + keyFile + ": " + identity::describe(key.error()), 2);
  std::cout << identity::EthAddress::ofKey(key->publicKey()).checksummed() << std::endl;
  return 0;
}

struct ImportOptions {
  std::string keystore;
  std::string passwordFile;
  std::string out;
};

int importKeystore(const ImportOptions& o) {
  std::string text;
  if (!readSmallFile(o.keystore, kMaxKeystoreBytes, text))
    return fail("key import", "--keystore " + o.keystore + ": cannot read it", 2);
  if (text.size() > kMaxKeystoreBytes) return fail("key import", "--keystore " + o.keystore + ": larger than 64 KiB", 2);
  Secret password;
  if (!o.passwordFile.empty()) {
    std::string error;
    auto p = passwordFromFile(o.passwordFile, error);
    if (!p) return fail("key import", error, 2);
    password.text = std::move(*p);
  } else if (auto p = passwordFromPrompt(o.keystore)) {
    password.text = std::move(*p);
  } else {
    return fail("key import", "no terminal to ask the password on: give --password-file FILE", 2);
  }
  auto key = identity::openKeystore(text, password.text);
  if (!key) return fail("key import", "--keystore " + o.keystore + ": " + identity::describe(key.error()));
  if (auto saved = key->save(o.out); !saved) {
    return fail("key import", "--out " + o.out + ": " + identity::describe(saved.error()) +
                                  " (an existing file is never overwritten)");
  }
  // The node id on stdout, like `rdv key new --out`; the account on stderr.
  std::cout << key->nodeId().hex() << std::endl;
  std::cerr << "address " << identity::EthAddress::ofKey(key->publicKey()).checksummed() << "\n";
  return 0;
}

}  // namespace

void addEthereumKeyCommands(CLI::App& app) {
  auto* key = app.get_subcommand("key");
  auto keyFile = std::make_shared<std::string>();
  auto* address = key->add_subcommand("address", "print the key's Ethereum address (0x, EIP-55 checksum)");
  address->add_option("--key", *keyFile, "private key file (rdv key new, rdv key import)")->required();
  address->callback([keyFile] { exitCode() = printAddress(*keyFile); });

  auto o = std::make_shared<ImportOptions>();
  auto* import = key->add_subcommand(
      "import", "read an Ethereum keystore v3 file (scrypt or pbkdf2, aes-128-ctr) and write an rdv key file");
  import->add_option("--keystore", o->keystore, "the keystore JSON file (geth, web3, MetaMask export)")->required();
  import->add_option("--password-file", o->passwordFile, "read the password from this file's first line "
                                                         "(default: ask on the terminal)");
  import->add_option("--out", o->out, "the rdv key file to create (mode 0600; refuses to overwrite)")->required();
  import->callback([o] { exitCode() = importKeystore(*o); });
}

}  // namespace rdv::cli
