#include "elf.h"

#include <fmt/format.h>

#include "vouch/sbom/parsers.h"

namespace vouch::sbom {
namespace detail {
namespace {

constexpr uint32_t kMaxSections = 1 << 16;
constexpr uint32_t kMaxSegments = 1 << 12;
constexpr uint32_t kShtNobits = 8;

}  // namespace

uint64_t ElfFile::read_uint(std::string_view b, size_t width) const {
  uint64_t v = 0;
  for (size_t i = 0; i < width && i < b.size(); ++i) {
    size_t k = big_endian_ ? i : width - 1 - i;
    v = (v << 8) | static_cast<unsigned char>(b[k]);
  }
  return v;
}

Result<ElfFile> ElfFile::parse(std::string_view data) {
  ElfFile f;
  f.data_ = data;
  if (data.size() < 52 || !data.starts_with(kElfMagic)) return invalid_input("ELF: no ELF header");
  if (data[4] != 1 && data[4] != 2) return invalid_input(fmt::format("ELF: unknown class {}", int(data[4])));
  if (data[5] != 1 && data[5] != 2) return invalid_input(fmt::format("ELF: unknown byte order {}", int(data[5])));
  f.is64_ = data[4] == 2;
  f.big_endian_ = data[5] == 2;
  if (f.is64_ && data.size() < 64) return invalid_input("ELF: truncated header");
  auto field = [&](size_t off, size_t width) { return f.read_uint(data.substr(off, width), width); };
  uint64_t phoff = f.is64_ ? field(32, 8) : field(28, 4);
  uint64_t shoff = f.is64_ ? field(40, 8) : field(32, 4);
  uint64_t phentsize = field(f.is64_ ? 54 : 42, 2), phnum = field(f.is64_ ? 56 : 44, 2);
  uint64_t shentsize = field(f.is64_ ? 58 : 46, 2), shnum = field(f.is64_ ? 60 : 48, 2);
  uint64_t shstrndx = field(f.is64_ ? 62 : 50, 2);
  const uint64_t want_sh = f.is64_ ? 64 : 40, want_ph = f.is64_ ? 56 : 32;

  auto entry = [&](uint64_t table, uint64_t index, uint64_t entsize, uint64_t want, std::string_view what)
      -> Result<std::string_view> {
    if (entsize < want) return invalid_input(fmt::format("ELF: {} entry size {} too small", what, entsize));
    uint64_t off = table + index * entsize;
    if (table > data.size() || index > (data.size() - table) / entsize || data.size() - off < want)
      return invalid_input(fmt::format("ELF: {} {} outside the file", what, index));
    return data.substr(off, want);
  };
  auto section = [&](std::string_view h) {
    Section s;
    s.type = static_cast<uint32_t>(f.read_uint(h.substr(4, 4), 4));
    if (f.is64_) {
      s.addr = f.read_uint(h.substr(16, 8), 8);
      s.offset = f.read_uint(h.substr(24, 8), 8);
      s.size = f.read_uint(h.substr(32, 8), 8);
    } else {
      s.addr = f.read_uint(h.substr(12, 4), 4);
      s.offset = f.read_uint(h.substr(16, 4), 4);
      s.size = f.read_uint(h.substr(20, 4), 4);
    }
    return s;
  };

  if (phoff != 0 && phnum > 0) {
    if (phnum > kMaxSegments) return invalid_input(fmt::format("ELF: {} program headers", phnum));
    for (uint64_t i = 0; i < phnum; ++i) {
      VOUCH_ASSIGN_OR_RETURN(std::string_view h, entry(phoff, i, phentsize, want_ph, "program header"));
      Segment s;
      s.type = static_cast<uint32_t>(f.read_uint(h.substr(0, 4), 4));
      if (f.is64_) {
        s.flags = static_cast<uint32_t>(f.read_uint(h.substr(4, 4), 4));
        s.offset = f.read_uint(h.substr(8, 8), 8);
        s.vaddr = f.read_uint(h.substr(16, 8), 8);
        s.filesz = f.read_uint(h.substr(32, 8), 8);
      } else {
        s.offset = f.read_uint(h.substr(4, 4), 4);
        s.vaddr = f.read_uint(h.substr(8, 4), 4);
        s.filesz = f.read_uint(h.substr(16, 4), 4);
        s.flags = static_cast<uint32_t>(f.read_uint(h.substr(24, 4), 4));
      }
      f.segments_.push_back(s);
    }
  }
  if (shoff == 0) return f;
  // Extended numbering: the real count and string table index live in section 0.
  if (shnum == 0 || shstrndx == 0xffff) {
    VOUCH_ASSIGN_OR_RETURN(std::string_view h0, entry(shoff, 0, shentsize, want_sh, "section header"));
    if (shnum == 0) shnum = f.is64_ ? f.read_uint(h0.substr(32, 8), 8) : f.read_uint(h0.substr(20, 4), 4);
    if (shstrndx == 0xffff) shstrndx = f.read_uint(h0.substr(f.is64_ ? 40 : 24, 4), 4);
  }
  if (shnum > kMaxSections) return invalid_input(fmt::format("ELF: {} section headers", shnum));
  if (shnum == 0) return f;
  if (shstrndx >= shnum) return invalid_input(fmt::format("ELF: section name table {} of {}", shstrndx, shnum));
  VOUCH_ASSIGN_OR_RETURN(std::string_view strh, entry(shoff, shstrndx, shentsize, want_sh, "section header"));
  Section strtab = section(strh);
  if (strtab.offset > data.size() || strtab.size > data.size() - strtab.offset)
    return invalid_input("ELF: section name table outside the file");
  std::string_view names = data.substr(strtab.offset, strtab.size);
  for (uint64_t i = 0; i < shnum; ++i) {
    VOUCH_ASSIGN_OR_RETURN(std::string_view h, entry(shoff, i, shentsize, want_sh, "section header"));
    Section s = section(h);
    uint64_t name_off = f.read_uint(h.substr(0, 4), 4);
    if (name_off < names.size()) {
      std::string_view n = names.substr(name_off);
      s.name = n.substr(0, n.find('\0'));
    }
    if (s.type != kShtNobits && (s.offset > data.size() || s.size > data.size() - s.offset))
      return invalid_input(fmt::format("ELF: section {} '{}' outside the file", i, s.name));
    f.sections_.push_back(s);
  }
  return f;
}

std::string_view ElfFile::section_data(const Section& s) const {
  if (s.type == kShtNobits) return {};
  return data_.substr(s.offset, s.size);  // bounds checked in parse()
}

const ElfFile::Section* ElfFile::find_section(std::string_view name) const {
  for (const auto& s : sections_)
    if (s.name == name) return &s;
  return nullptr;
}

std::string_view ElfFile::read_at_address(uint64_t addr, uint64_t size) const {
  for (const auto& p : segments_) {
    if (p.type != 1 /* PT_LOAD */) continue;
    if (addr < p.vaddr || addr - p.vaddr >= p.filesz) continue;
    uint64_t rel = addr - p.vaddr;
    if (p.offset > data_.size() || rel > data_.size() - p.offset) return {};
    uint64_t avail = std::min<uint64_t>(p.filesz - rel, data_.size() - p.offset - rel);
    return data_.substr(p.offset + rel, std::min(size, avail));
  }
  return {};
}

}  // namespace detail

Result<std::optional<std::string_view>> elf_section(std::string_view elf, std::string_view name) {
  VOUCH_ASSIGN_OR_RETURN(detail::ElfFile f, detail::ElfFile::parse(elf));
  const auto* s = f.find_section(name);
  if (!s) return std::optional<std::string_view>();
  return std::optional<std::string_view>(f.section_data(*s));
}

}  // namespace vouch::sbom
