// Builds small ELF files for the binary cataloger tests: one PT_LOAD segment (read-write) maps
// the whole file at kElfBase, sections are laid out from offset 0x100 in order, 16-aligned.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace vouch::sbom::testing {

inline constexpr uint64_t kElfBase = 0x10000;
inline constexpr uint64_t kFirstSectionOffset = 0x100;

struct ElfSection {
  std::string name;
  std::string data;
};

inline void put_uint(std::string& out, uint64_t v, int width, bool big_endian) {
  for (int i = 0; i < width; ++i) {
    int shift = big_endian ? 8 * (width - 1 - i) : 8 * i;
    out.push_back(static_cast<char>((v >> shift) & 0xff));
  }
}

inline void set_uint(std::string& out, size_t at, uint64_t v, int width, bool big_endian) {
  std::string tmp;
  put_uint(tmp, v, width, big_endian);
  out.replace(at, static_cast<size_t>(width), tmp);
}

inline std::string build_elf(bool is64, bool big_endian, const std::vector<ElfSection>& sections) {
  const int w = is64 ? 8 : 4;
  const size_t ehsize = is64 ? 64 : 52, phsize = is64 ? 56 : 32, shsize = is64 ? 64 : 40;
  std::string f(ehsize, '\0');
  f[0] = 0x7f, f[1] = 'E', f[2] = 'L', f[3] = 'F';
  f[4] = is64 ? 2 : 1;
  f[5] = big_endian ? 2 : 1;
  f[6] = 1;
  // Program header, filled in once the size is known.
  size_t phoff = f.size();
  f.resize(kFirstSectionOffset, '\0');
  std::string shstrtab(1, '\0');
  std::vector<uint64_t> offsets, name_offs;
  auto add = [&](const std::string& name, const std::string& data) {
    while (f.size() % 16) f.push_back('\0');
    offsets.push_back(f.size());
    name_offs.push_back(shstrtab.size());
    shstrtab += name + '\0';
    f += data;
  };
  for (const auto& s : sections) add(s.name, s.data);
  size_t strndx = sections.size() + 1;
  name_offs.push_back(shstrtab.size());
  std::string strname = ".shstrtab";
  shstrtab += strname + '\0';
  while (f.size() % 16) f.push_back('\0');
  offsets.push_back(f.size());
  f += shstrtab;
  while (f.size() % 8) f.push_back('\0');
  size_t shoff = f.size();
  f += std::string(shsize, '\0');  // section 0
  std::vector<size_t> sizes;
  for (const auto& s : sections) sizes.push_back(s.data.size());
  sizes.push_back(shstrtab.size());
  for (size_t i = 0; i < sizes.size(); ++i) {
    std::string h;
    put_uint(h, name_offs[i], 4, big_endian);
    put_uint(h, i + 1 == sizes.size() ? 3 : 1, 4, big_endian);  // SHT_STRTAB / SHT_PROGBITS
    put_uint(h, 3, w, big_endian);                               // flags: write, alloc
    put_uint(h, kElfBase + offsets[i], w, big_endian);
    put_uint(h, offsets[i], w, big_endian);
    put_uint(h, sizes[i], w, big_endian);
    h.resize(shsize, '\0');
    f += h;
  }
  // ELF header fields.
  set_uint(f, 16, 2, 2, big_endian);  // ET_EXEC
  set_uint(f, 18, 62, 2, big_endian);
  set_uint(f, 20, 1, 4, big_endian);
  set_uint(f, is64 ? 32 : 28, phoff, w, big_endian);
  set_uint(f, is64 ? 40 : 32, shoff, w, big_endian);
  set_uint(f, is64 ? 52 : 40, ehsize, 2, big_endian);
  set_uint(f, is64 ? 54 : 42, phsize, 2, big_endian);
  set_uint(f, is64 ? 56 : 44, 1, 2, big_endian);
  set_uint(f, is64 ? 58 : 46, shsize, 2, big_endian);
  set_uint(f, is64 ? 60 : 48, sizes.size() + 1, 2, big_endian);
  set_uint(f, is64 ? 62 : 50, strndx, 2, big_endian);
  // PT_LOAD, read-write, the whole file.
  std::string ph;
  put_uint(ph, 1, 4, big_endian);
  if (is64) {
    put_uint(ph, 6, 4, big_endian);
    put_uint(ph, 0, 8, big_endian);
    put_uint(ph, kElfBase, 8, big_endian);
    put_uint(ph, kElfBase, 8, big_endian);
    put_uint(ph, f.size(), 8, big_endian);
    put_uint(ph, f.size(), 8, big_endian);
    put_uint(ph, 16, 8, big_endian);
  } else {
    put_uint(ph, 0, 4, big_endian);
    put_uint(ph, kElfBase, 4, big_endian);
    put_uint(ph, kElfBase, 4, big_endian);
    put_uint(ph, f.size(), 4, big_endian);
    put_uint(ph, f.size(), 4, big_endian);
    put_uint(ph, 6, 4, big_endian);
    put_uint(ph, 16, 4, big_endian);
  }
  f.replace(phoff, ph.size(), ph);
  return f;
}

inline std::string uvarint(uint64_t v) {
  std::string out;
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
  return out;
}

// The module info string with the 16-byte sentinels the linker puts around it.
inline std::string framed_modinfo(const std::string& text) {
  return std::string("0w\xaf\x0c\x92t\b\x02\x41\xe1\xc1\x07\xe6\xd6\x18\xe6", 16) + text +
         std::string("\xf9" "2C1\x86\x18 r\x00\x82\x42\x10\x41\x16\xd8\xf2", 16);
}

// A Go >= 1.18 .go.buildinfo section: header, then the two strings inline.
inline std::string go_inline_buildinfo(const std::string& version, const std::string& modinfo) {
  std::string s = "\xff Go buildinf:";
  s.push_back(8);
  s.push_back(2);
  s.resize(32, '\0');
  s += uvarint(version.size()) + version + uvarint(modinfo.size()) + modinfo;
  return s;
}

// A Go < 1.18 blob: the header points at two Go string headers, which point at the bytes.
// `at` is the virtual address the blob will have (the first section: kElfBase + 0x100).
inline std::string go_pointer_buildinfo(const std::string& version, const std::string& modinfo, int ptr_size,
                                        bool big_endian, uint64_t at = kElfBase + kFirstSectionOffset) {
  std::string s = "\xff Go buildinf:";
  s.push_back(static_cast<char>(ptr_size));
  s.push_back(big_endian ? 1 : 0);
  uint64_t hdr1 = at + 32, hdr2 = hdr1 + 2 * ptr_size, bytes1 = hdr2 + 2 * ptr_size, bytes2 = bytes1 + version.size();
  put_uint(s, hdr1, ptr_size, big_endian);
  put_uint(s, hdr2, ptr_size, big_endian);
  s.resize(32, '\0');
  put_uint(s, bytes1, ptr_size, big_endian);
  put_uint(s, version.size(), ptr_size, big_endian);
  put_uint(s, bytes2, ptr_size, big_endian);
  put_uint(s, modinfo.size(), ptr_size, big_endian);
  s += version + modinfo;
  return s;
}

}  // namespace vouch::sbom::testing
