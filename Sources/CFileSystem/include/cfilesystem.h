#ifndef ROADSIDE_CFILESYSTEM_H
#define ROADSIDE_CFILESYSTEM_H

/// Flushes the whole file system holding the open descriptor `fd` to its disk (Linux's
/// syncfs(2), 2.6.39 and later, which Swift's Glibc module does not export because it is a
/// GNU extension). Returns 0, or -1 with errno set.
int cfilesystem_syncfs(int fd);

#endif
