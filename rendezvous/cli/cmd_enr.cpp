// rdv key new, rdv enr encode|decode|verify: secp256k1 identities and EIP-778 node records.
#include <CLI/CLI.hpp>
#include <arpa/inet.h>

#include <iostream>
#include <nlohmann/json.hpp>

#include "rendezvous/enr/enr_builder.h"
#include "rendezvous/enr/enr_record.h"
#include "rendezvous/identity/private_key.h"
#include "rendezvous/cli/subcommands.h"
#include "rendezvous/cli/record_options.h"

namespace rdv::cli {

namespace {

int fail(const std::string& command, const std::string& message) {
  std::cerr << "rdv " << command << ": " << message << "\n";
  return 1;
}

struct EncodeOptions {
  std::string keyFile;
  RecordOptions record;
};

int encode(const EncodeOptions& o) {
  auto key = identity::PrivateKey::load(o.keyFile);
  if (!key) return fail("enr encode", o.keyFile + ": " + identity::describe(key.error()));
  auto record = buildRecord(o.record, *key);
  if (!record) return fail("enr encode", record.error());
  std::cout << record->toText() << std::endl;
  return 0;
}

bool printable(ByteSpan b) {
  if (b.empty()) return false;
  for (uint8_t c : b) {
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

// A readable rendering of one value: known keys typed, other strings as text or 0x-hex.
nlohmann::json readableValue(const enr::EnrRecord& r, std::string_view key, ByteSpan raw) {
  char text[INET6_ADDRSTRLEN] = {};
  if (key == "ip" && r.ip()) return inet_ntop(AF_INET, r.ip()->data(), text, sizeof(text));
  if (key == "ip6" && r.ip6()) return inet_ntop(AF_INET6, r.ip6()->data(), text, sizeof(text));
  if ((key == "udp" || key == "tcp" || key == "udp6" || key == "tcp6") && r.port(key)) return *r.port(key);
  auto bytes = r.bytes(key);
  if (!bytes) return "rlp:0x" + toHex(raw);  // a list value: raw RLP
  if (key != "secp256k1" && printable(*bytes)) return std::string(asString(*bytes));
  return "0x" + toHex(*bytes);
}

int decode(const std::string& text) {
  auto record = enr::EnrRecord::fromText(text);
  if (!record) return fail("enr decode", enr::describe(record.error()));
  nlohmann::json keys = nlohmann::json::object();
  for (const auto& e : record->entries()) keys[std::string(e.key)] = readableValue(*record, e.key, e.value);
  nlohmann::json out = {
      {"seq", record->seq()},
      {"node_id", record->nodeId().hex()},
      {"signature", toHex(record->signature())},
      {"size", record->encoded().size()},
      {"keys", keys},
  };
  std::cout << out.dump(2) << std::endl;
  return 0;
}

int verify(const std::string& text) {
  auto record = enr::EnrRecord::fromText(text);
  if (!record) return fail("enr verify", std::string("invalid: ") + enr::describe(record.error()));
  std::cout << "valid " << record->nodeId().hex() << std::endl;
  return 0;
}

int newKey(const std::string& out) {
  auto key = identity::PrivateKey::generate();
  if (!key) return fail("key new", identity::describe(key.error()));
  if (out.empty()) {
    std::cout << key->hex() << std::endl;
    std::cerr << "node id " << key->nodeId().hex() << "\n";
    return 0;
  }
  if (auto saved = key->save(out); !saved) {
    return fail("key new", out + ": " + identity::describe(saved.error()) + " (an existing file is never overwritten)");
  }
  std::cout << key->nodeId().hex() << std::endl;
  return 0;
}

void addKeyCommands(CLI::App& app) {
  auto* key = app.add_subcommand("key", "secp256k1 identity keys");
  key->require_subcommand(1);
  auto* create = key->add_subcommand("new", "generate a key; with --out write it (mode 0600) and print the node id");
  auto out = std::make_shared<std::string>();
  create->add_option("--out", *out, "file to create (refuses to overwrite)");
  create->callback([out] { exitCode() = newKey(*out); });
}

}  // namespace

void addEnrCommands(CLI::App& app) {
  addKeyCommands(app);
  auto* cmd = app.add_subcommand("enr", "EIP-778 node records");
  cmd->require_subcommand(1);

  auto o = std::make_shared<EncodeOptions>();
  auto* enc = cmd->add_subcommand("encode", "build and sign a record, print it as enr:...");
  enc->add_option("--key", o->keyFile, "private key file (hex)")->required();
  addRecordOptions(*enc, o->record);
  enc->callback([o] { exitCode() = encode(*o); });

  auto text = std::make_shared<std::string>();
  auto* dec = cmd->add_subcommand("decode", "verify a record and print it as JSON");
  dec->add_option("record", *text, "enr:...")->required();
  dec->callback([text] { exitCode() = decode(*text); });

  auto vtext = std::make_shared<std::string>();
  auto* ver = cmd->add_subcommand("verify", "exit 0 if the record is valid, 1 with the reason otherwise");
  ver->add_option("record", *vtext, "enr:...")->required();
  ver->callback([vtext] { exitCode() = verify(*vtext); });
}

}  // namespace rdv::cli
