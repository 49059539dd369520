// The cosign image verifier behind policy::ImageVerifier (verifyImages): cosign signatures and attestations read from the
// registry (both of cosign's storage layouts), checked against the rule's attestors as
// Kyverno checks them (every attestor set must pass; within a set, `count` entries or all).
// Entries of type Notary go to notary_image_verifier (notary.h).
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <optional>

#include "vouch/oci/store.h"
#include "vouch/policy/engine.h"
#include "vouch/sigstore/trusted_material.h"

namespace vouch::verifiers {

struct CosignOptions {
  oci::StoreOptions store;
  // Trust for keyless attestors and transparency-log checks. Without it, an attestor that
  // needs either fails (never passes unchecked) unless it sets rekor.ignoreTlog.
  // One trusted root, or a collection (a private root with the public-good one).
  std::shared_ptr<const sigstore::TrustedMaterial> trusted_material;
  // Where trust comes from when none is given and a check needs it (the command line: Sigstore's
  // trusted root over TUF); asked once, on the first such check, and its error is the check's.
  std::function<Result<std::shared_ptr<const sigstore::TrustedMaterial>>()> trusted_material_source;
};

std::shared_ptr<policy::ImageVerifier> cosign_image_verifier(CosignOptions options);

}  // namespace vouch::verifiers
