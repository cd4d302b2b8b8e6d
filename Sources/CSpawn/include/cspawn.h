#ifndef ROADSIDE_CSPAWN_H
#define ROADSIDE_CSPAWN_H

#include <spawn.h>

/// Closes every descriptor from `from` up in the child (glibc's
/// posix_spawn_file_actions_addclosefrom_np, 2.34 and later, which Swift's Glibc module
/// does not export because it is a GNU extension).
int cspawn_file_actions_addclosefrom(posix_spawn_file_actions_t *actions, int from);

/// Changes the child's working directory before it executes (glibc's
/// posix_spawn_file_actions_addchdir_np, 2.29 and later).
int cspawn_file_actions_addchdir(posix_spawn_file_actions_t *actions, const char *path);

#endif
