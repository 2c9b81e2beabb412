// elf_problem: whether a file is a shared object whose every part the loader touches lies within
// the file, checked before dlopen.
//
// Why: dlopen maps a plugin's segments straight from the file. A segment that reaches past the end
// of a truncated file (a half-copied .so during a deploy) maps without error and faults with
// SIGBUS on first touch, which kills the whole server. glibc checks none of this, so we do.
#pragma once

#include <sys/types.h>

#include <string>

namespace chronos {

// Reads the ELF header, the program header table and the section header table of the open file
// `fd` of `size` bytes (with pread; the offset of `fd` is not used) and returns "" when:
//   - it is an ELF file of this host's class, byte order and machine, of type ET_DYN;
//   - its program header table, every PT_LOAD and PT_DYNAMIC segment's file bytes and its
//     section header table lie within the file.
// Otherwise returns why not, in the words the message after "not a loadable shared object: "
// needs ("file too short", "invalid ELF header", "truncated or corrupt: ...").
std::string elf_problem(int fd, off_t size);

}  // namespace chronos
