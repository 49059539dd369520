// PEM blocks (RFC 7468) read and written without interpreting their contents: for key files
// whose block type decides how to read them, and for comparing DER bytes recorded in a log entry.
#pragma once

#include <string>
#include <string_view>

#include "vouch/base/bytes.h"
#include "vouch/base/result.h"

namespace vouch::crypto {

struct PemBlock {
  std::string type;     // "CERTIFICATE", "PUBLIC KEY", ...
  std::string headers;  // RFC 1421 headers, if any
  Bytes der;
};

// The first PEM block of `type` in `text` (any type when `type` is empty). Text before and
// between blocks is skipped, as Go's pem.Decode does.
Result<PemBlock> read_pem_block(std::string_view text, std::string_view type = {});

// `der` as a PEM block of `type`, laid out as Go's pem.Encode and OpenSSL write it: base64 in
// lines of 64 characters, every line ending in a newline.
std::string write_pem_block(std::string_view type, ByteView der);

}  // namespace vouch::crypto
