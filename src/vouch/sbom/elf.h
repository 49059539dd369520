// A bounded reader of ELF headers, for the catalogers that read build data out of executables.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "vouch/base/result.h"

namespace vouch::sbom::detail {

inline constexpr std::string_view kElfMagic = "\x7f" "ELF";

class ElfFile {
 public:
  struct Section {
    std::string_view name;
    uint32_t type = 0;
    uint64_t addr = 0, offset = 0, size = 0;
  };
  struct Segment {
    uint32_t type = 0, flags = 0;
    uint64_t offset = 0, vaddr = 0, filesz = 0;
  };

  // Reads the ELF, section and program headers; every offset is checked against the file.
  static Result<ElfFile> parse(std::string_view data);

  bool is64() const { return is64_; }
  bool big_endian() const { return big_endian_; }
  const std::vector<Section>& sections() const { return sections_; }
  const std::vector<Segment>& segments() const { return segments_; }
  // The file bytes of a section (empty for SHT_NOBITS).
  std::string_view section_data(const Section& s) const;
  const Section* find_section(std::string_view name) const;
  // Up to `size` bytes at virtual address `addr`, from the PT_LOAD segment holding it; empty when
  // no segment holds it.
  std::string_view read_at_address(uint64_t addr, uint64_t size) const;

  uint64_t read_uint(std::string_view bytes, size_t width) const;  // width 2, 4 or 8, in file order

 private:
  std::string_view data_;
  bool is64_ = false, big_endian_ = false;
  std::vector<Section> sections_;
  std::vector<Segment> segments_;
};

}  // namespace vouch::sbom::detail
