// The ELF check before dlopen (see ElfCheck.hpp).
#include "ElfCheck.hpp"

#include <elf.h>
#include <link.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <vector>

namespace chronos {
namespace {

// This host's kind of object: ElfW picks the native 32- or 64-bit layout.
using Header = ElfW(Ehdr);
using ProgramHeader = ElfW(Phdr);
using SectionHeader = ElfW(Shdr);
constexpr unsigned char kClass = sizeof(void*) == 8 ? ELFCLASS64 : ELFCLASS32;
constexpr unsigned char kByteOrder =
    __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ ? ELFDATA2LSB : ELFDATA2MSB;
#if defined(__x86_64__)
constexpr unsigned kMachine = EM_X86_64;
#elif defined(__aarch64__)
constexpr unsigned kMachine = EM_AARCH64;
#elif defined(__i386__)
constexpr unsigned kMachine = EM_386;
#else
#error "ElfCheck: add this machine's EM_ constant"
#endif

bool read_at(int fd, void* out, std::size_t len, std::uint64_t offset) {
  auto* bytes = static_cast<char*>(out);
  while (len > 0) {
    const ssize_t n = ::pread(fd, bytes, len, static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes += n;
    len -= static_cast<std::size_t>(n);
    offset += static_cast<std::uint64_t>(n);
  }
  return true;
}

// "" when [offset, offset + length) lies within a file of `size` bytes (no overflow either).
std::string beyond_end(const char* what, std::uint64_t offset, std::uint64_t length,
                       std::uint64_t size) {
  if (offset <= size && length <= size - offset) return "";
  const std::uint64_t end = offset + length < offset ? UINT64_MAX : offset + length;
  return std::string("truncated or corrupt: ") + what + " ends at byte " + std::to_string(end) +
         " but the file has " + std::to_string(size) + " (was it copied completely?)";
}

std::string header_problem(const Header& h) {
  if (std::memcmp(h.e_ident, ELFMAG, SELFMAG) != 0) return "invalid ELF header";
  if (h.e_ident[EI_CLASS] != kClass) return "wrong ELF class (32/64-bit) for this host";
  if (h.e_ident[EI_DATA] != kByteOrder) return "wrong byte order for this host";
  if (h.e_machine != kMachine) return "built for another machine architecture";
  if (h.e_type != ET_DYN) return "not a shared object (ELF type is not ET_DYN)";
  if (h.e_phentsize != sizeof(ProgramHeader) || h.e_phnum == 0) {
    return "truncated or corrupt: bad program header table";
  }
  return "";
}

std::string segments_problem(int fd, const Header& h, std::uint64_t size) {
  const std::uint64_t table = std::uint64_t{h.e_phnum} * sizeof(ProgramHeader);
  if (auto p = beyond_end("the program header table", h.e_phoff, table, size); !p.empty()) {
    return p;
  }
  std::vector<ProgramHeader> headers(h.e_phnum);
  if (!read_at(fd, headers.data(), table, h.e_phoff)) return "cannot read the program headers";
  for (const ProgramHeader& ph : headers) {
    const char* what = ph.p_type == PT_LOAD      ? "a loadable segment"
                       : ph.p_type == PT_DYNAMIC ? "the dynamic section"
                                                 : nullptr;
    if (what == nullptr) continue;
    if (auto p = beyond_end(what, ph.p_offset, ph.p_filesz, size); !p.empty()) return p;
  }
  return "";
}

}  // namespace

std::string elf_problem(int fd, off_t file_size) {
  const auto size = static_cast<std::uint64_t>(file_size);
  Header h{};
  if (size < sizeof h || !read_at(fd, &h, sizeof h, 0)) return "file too short";
  if (auto p = header_problem(h); !p.empty()) return p;
  if (auto p = segments_problem(fd, h, size); !p.empty()) return p;
  if (h.e_shoff != 0) {
    const std::uint64_t table = std::uint64_t{h.e_shnum} * sizeof(SectionHeader);
    if (auto p = beyond_end("the section header table", h.e_shoff, table, size); !p.empty()) {
      return p;
    }
  }
  return "";
}

}  // namespace chronos
