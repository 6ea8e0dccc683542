/*
 * postsuper.h - postsuper's repair and requeue helpers (postsuper_repair.c).
 *
 * postsuper_structure() moves misplaced files to the hash subdirectory
 * their queue ID belongs in and renames files whose name does not match
 * their inode (with their logs); postsuper_purge() removes temporary and
 * incomplete files (see postsuper.c). postsuper_touch(queue, id) sets a
 * file's times to now, so a released message is retried at once.
 * postsuper_requeue(queue, id) turns a queued message into a maildrop file
 * (its pending recipients, envelope options and content) for pickup and
 * cleanup to process again, then removes the original and its logs;
 * 0, or -1 (logged) when the message stays where it was.
 */
#ifndef POSTERN_POSTSUPER_H
#define POSTERN_POSTSUPER_H

void    postsuper_structure(void);
void    postsuper_purge(void);
void    postsuper_touch(const char *queue, const char *id);
int     postsuper_requeue(const char *queue, const char *id);

#endif
