#include "vouch/crypto/pem.h"

#include <openssl/pem.h>

#include "openssl_util.h"

namespace vouch::crypto {

Result<PemBlock> read_pem_block(std::string_view text, std::string_view type) {
  if (text.size() > 16 << 20) return invalid_input("PEM data larger than 16 MiB");
  BioPtr bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
  if (!bio) return internal_error("out of memory");
  for (;;) {
    char* name = nullptr;
    char* header = nullptr;
    unsigned char* data = nullptr;
    long len = 0;
    if (PEM_read_bio(bio.get(), &name, &header, &data, &len) != 1) {
      ERR_clear_error();
      return invalid_input(type.empty() ? std::string("no PEM block found")
                                        : fmt::format("no PEM {} block found", type));
    }
    bool match = type.empty() || type == name;
    PemBlock block;
    if (match) block = PemBlock{name, header ? header : "", Bytes(data, data + len)};
    OPENSSL_free(name);
    OPENSSL_free(header);
    // The block may hold a private key: wipe it.
    OPENSSL_clear_free(data, static_cast<size_t>(len));
    if (match) return block;
  }
}

std::string write_pem_block(std::string_view type, ByteView der) {
  const std::string body = base64_encode(der);
  std::string out;
  out.reserve(body.size() + body.size() / 64 + 2 * type.size() + 40);
  out.append("-----BEGIN ").append(type).append("-----\n");
  for (size_t at = 0; at < body.size(); at += 64) out.append(body, at, 64).push_back('\n');
  out.append("-----END ").append(type).append("-----\n");
  return out;
}

}  // namespace vouch::crypto
