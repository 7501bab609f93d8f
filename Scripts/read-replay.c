/* The reads of one command, replayed with nothing else: Scripts/bench records (strace -y) the file-system calls a
 * command makes below the snapshot root, and this program repeats them from C, in the same order, through the same
 * descriptors, with the same read sizes and offsets, decoding nothing. Its wall time is the least any program that
 * reads what the command reads, the way it reads it, can take on one core: the floor of that command's own output,
 * beside the generic read floor (read-floor.c: three things per function, whatever is printed).
 *
 * Input (the file OPS, or standard input), one call per line. N and D are the command's own descriptor numbers
 * (a slot each here); PATH is absolute, NAME relative to the directory in slot D:
 *   O N PATH      open a directory into slot N          o N D NAME    the same, relative to slot D
 *   F N PATH      open a file into slot N               f N D NAME    the same, relative to slot D
 *   E PATH        an open that failed (made again)      e D NAME      the same, relative to slot D
 *   X N           close slot N                          t N           fstat slot N
 *   g N           list slot N (getdents64, to the end)
 *   r N COUNT     read COUNT bytes from slot N          p N COUNT OFF pread COUNT bytes at OFF
 *   R PATH        readlink                              l D NAME      readlinkat
 *   S PATH        lstat                                 s D NAME      fstatat without following a link
 * Prints the number of calls replayed. Usage: read-replay [OPS] (default: standard input) */
#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define SLOTS 65536

static int slot[SLOTS];
static char buf[65536];

/* The number at *p (advancing past it and one space), or -1. */
static long number(char **p)
{
    char *end;
    long n = strtol(*p, &end, 10);
    if (end == *p) return -1;
    *p = *end == ' ' ? end + 1 : end;
    return n;
}

static int at(long d) { return d >= 0 && d < SLOTS && slot[d] >= 0 ? slot[d] : AT_FDCWD; }

static void put(long n, int fd)
{
    if (n < 0 || n >= SLOTS) { if (fd >= 0) close(fd); return; }
    if (slot[n] >= 0) close(slot[n]);
    slot[n] = fd;
}

int main(int argc, char **argv)
{
    FILE *in = argc > 1 ? fopen(argv[1], "r") : stdin;
    if (!in) { perror(argv[1]); return 3; }
    static char line[PATH_MAX + 64];
    char target[PATH_MAX];
    struct stat st;
    long calls = 0;
    for (int i = 0; i < SLOTS; i++) slot[i] = -1;
    while (fgets(line, sizeof line, in)) {
        size_t len = strlen(line);
        if (len && line[len - 1] == '\n') line[--len] = 0;
        if (len < 2) continue;
        char op = line[0];
        char *p = line + 2;
        long n, d, count, offset;
        calls++;
        switch (op) {
        case 'O': n = number(&p); put(n, open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC)); break;
        case 'o': n = number(&p); d = number(&p); put(n, openat(at(d), p, O_RDONLY | O_DIRECTORY | O_CLOEXEC)); break;
        case 'F': n = number(&p); put(n, open(p, O_RDONLY | O_CLOEXEC)); break;
        case 'f': n = number(&p); d = number(&p); put(n, openat(at(d), p, O_RDONLY | O_CLOEXEC)); break;
        case 'E': { int fd = open(p, O_RDONLY | O_CLOEXEC); if (fd >= 0) close(fd); break; }
        case 'e': { d = number(&p); int fd = openat(at(d), p, O_RDONLY | O_CLOEXEC); if (fd >= 0) close(fd); break; }
        case 'X': n = number(&p); put(n, -1); break;
        case 't': n = number(&p); (void)fstat(at(n), &st); break;
        case 'g':
            n = number(&p);
            if (at(n) != AT_FDCWD) while (syscall(SYS_getdents64, at(n), buf, sizeof buf) > 0) {}
            break;
        case 'r':
            n = number(&p); count = number(&p);
            if (count > (long)sizeof buf) count = sizeof buf;
            if (count >= 0) (void)read(at(n), buf, (size_t)count);
            break;
        case 'p':
            n = number(&p); count = number(&p); offset = number(&p);
            if (count > (long)sizeof buf) count = sizeof buf;
            if (count >= 0 && offset >= 0) (void)pread(at(n), buf, (size_t)count, offset);
            break;
        case 'R': (void)readlink(p, target, sizeof target); break;
        case 'l': d = number(&p); (void)readlinkat(at(d), p, target, sizeof target); break;
        case 'S': (void)fstatat(AT_FDCWD, p, &st, AT_SYMLINK_NOFOLLOW); break;
        case 's': d = number(&p); (void)fstatat(at(d), p, &st, AT_SYMLINK_NOFOLLOW); break;
        default: calls--; break;
        }
    }
    printf("%ld calls\n", calls);
    return 0;
}
