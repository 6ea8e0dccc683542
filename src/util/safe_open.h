/*
 * safe_open - open or create a file without being fooled by links or races.
 *
 * For writing files on behalf of users (mailboxes, alias /file targets). An
 * existing file is opened only if it is a regular file, not a symbolic link,
 * has exactly one hard link, is the same file after opening as before (no
 * swap between check and open) and, when `owner` is not (uid_t) -1, is owned
 * by that user. A missing file is created exclusively with `mode`, owned by
 * owner:group when those are given. On failure returns -1 and puts a
 * human-readable reason in `why` ("file is a symbolic link", ...); errno is
 * preserved for I/O errors.
 */
#ifndef POSTERN_SAFE_OPEN_H
#define POSTERN_SAFE_OPEN_H

#include <sys/stat.h>
#include <sys/types.h>

#include "strbuf.h"

int safe_open(const char *path, int flags, mode_t mode, uid_t owner, gid_t group,
              struct stat *st, strbuf *why);

#endif
