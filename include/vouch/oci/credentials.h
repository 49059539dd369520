// Registry credentials as docker keeps them: config.json's auths (auth, username/password,
// identitytoken), credHelpers and credsStore (docker-credential-<name> programs).
#pragma once

#include <string>

#include "vouch/base/result.h"

namespace vouch::oci {

struct Credentials {
  std::string username;
  std::string password;
  std::string identity_token;  // an OAuth2 refresh token (docker's "<token>" user)
  bool empty() const { return username.empty() && password.empty() && identity_token.empty(); }
};

// Looks `registry` up in a docker config.json: auths (auth, username/password,
// identitytoken), credHelpers[registry], credsStore ("docker-credential-<name> get", the
// server URL on stdin, {"Username","Secret"} on stdout). Missing file or entry: empty.
Result<Credentials> credentials_from_docker_config(const std::string& config_path, const std::string& registry);
// $DOCKER_CONFIG/config.json, else ~/.docker/config.json.
std::string default_docker_config_path();

}  // namespace vouch::oci
