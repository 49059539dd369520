// generate-key-pair, public-key: cosign-compatible key files.
#include <filesystem>
#include <iostream>

#include "cli/commands.h"
#include "cli/common.h"
#include "vouch/base/file.h"
#include "vouch/crypto/cosign_key.h"

namespace vouch::cli {
namespace {

struct GenerateOptions {
  std::string prefix = "cosign";
  bool force = false;
  std::string output = "text";
};

Status generate_key_pair(const GenerateOptions& opts) {
  std::filesystem::path key_path = opts.prefix + ".key";
  std::filesystem::path pub_path = opts.prefix + ".pub";
  if (!opts.force) {
    for (const auto& p : {key_path, pub_path})
      if (std::filesystem::exists(p))
        return invalid_input(fmt::format("{} already exists (use --force to overwrite)", p.string()));
  }
  VOUCH_ASSIGN_OR_RETURN(std::string password, read_password(true));
  VOUCH_ASSIGN_OR_RETURN(crypto::PrivateKey key, crypto::PrivateKey::generate(crypto::KeyType::kEcdsaP256));
  VOUCH_ASSIGN_OR_RETURN(std::string encrypted, crypto::encrypt_cosign_private_key(key, password));
  VOUCH_RETURN_IF_ERROR(write_file_atomic(key_path, encrypted, 0600));
  VOUCH_RETURN_IF_ERROR(write_file_atomic(pub_path, key.public_key().pem(), 0644));
  if (opts.output == "json") {
    print_json(boost::json::object{{"privateKey", key_path.string()}, {"publicKey", pub_path.string()}});
  } else {
    fmt::print(stderr, "Private key written to {}\nPublic key written to {}\n", key_path.string(), pub_path.string());
  }
  return ok_status();
}

Status public_key(const std::string& key_file, const std::string& out_file, const std::string& output) {
  auto key = load_private_key(key_file);
  if (!key.ok()) return std::move(key).error();
  std::string pub = key->public_key().pem();
  if (output == "json") {
    print_json(boost::json::object{{"publicKey", pub}, {"keyType", std::string(crypto::key_type_name(key->type()))}});
    return ok_status();
  }
  if (out_file.empty()) {
    std::cout << pub;
    return ok_status();
  }
  return write_file_atomic(out_file, pub);
}

}  // namespace

void register_key_commands(CLI::App& app, int& exit_code) {
  auto gen_opts = std::make_shared<GenerateOptions>();
  auto* gen = app.add_subcommand("generate-key-pair",
                                 "Generate an ECDSA P-256 key pair in cosign's format: cosign.key (encrypted with\n"
                                 "scrypt and NaCl secretbox; password from $COSIGN_PASSWORD or a prompt) and cosign.pub.");
  gen->add_option("--output-key-prefix", gen_opts->prefix, "Write PREFIX.key and PREFIX.pub")->capture_default_str();
  gen->add_flag("-f,--force", gen_opts->force, "Overwrite existing key files");
  add_output_flag(gen, gen_opts->output);
  on_run(gen, exit_code, [gen_opts] { return generate_key_pair(*gen_opts); });

  auto key_file = std::make_shared<std::string>();
  auto out_file = std::make_shared<std::string>();
  auto output = std::make_shared<std::string>("text");
  auto* pub = app.add_subcommand("public-key", "Print the public key (PEM) of a private key file (cosign.key).");
  pub->add_option("--key", *key_file, "Private key file")->required();
  pub->add_option("--outfile", *out_file, "Write the public key to this file instead of stdout");
  add_output_flag(pub, *output, {"text", "json"}, "text is PEM");
  on_run(pub, exit_code, [key_file, out_file, output] { return public_key(*key_file, *out_file, *output); });
}

}  // namespace vouch::cli
