/* The reads of one command, replayed with nothing else: Scripts/bench records (strace -y) which files, directories
 * and links a command touches below the snapshot root, and this program repeats those kernel operations from C,
 * in the same order and through the same directory descriptors, decoding nothing. Its wall time is the least any
 * program that reads what the command reads can take on one core: the floor of that command's own output, beside
 * the generic read floor (read-floor.c: three things per function, whatever is printed).
 *
 * Input (the file OPS, or standard input), one operation per line; N is a directory slot (the command's own descriptor number):
 *   O N PATH   open the directory PATH into slot N        X N        close slot N
 *   g N        list slot N to the end (getdents64)
 *   f N NAME   open NAME in slot N, read it, close it     F PATH     the same for an absolute path
 *   l N NAME   readlinkat                                 R PATH     readlink
 *   s N NAME   fstatat without following a link           S PATH     the same for an absolute path
 * A file is read 4 KiB at a time until a read comes back short, except `config`: its first 256 bytes in one pread (the commands read
 * only the registers they decode). Prints the number of operations. Usage: read-replay [OPS] (default: standard input) */
#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define SLOTS 4096

static char buf[32768];

static void read_file(int fd, const char *name)
{
    const char *base = strrchr(name, '/');
    if (strcmp(base ? base + 1 : name, "config") == 0) {
        (void)pread(fd, buf, 256, 0);
    } else {
        /* One read answers a sysfs attribute (at most a page); a longer file is read on to its end. */
        while (read(fd, buf, 4096) == 4096) {}
    }
    close(fd);
}

int main(int argc, char **argv)
{
    FILE *in = argc > 1 ? fopen(argv[1], "r") : stdin;
    if (!in) { perror(argv[1]); return 3; }
    static char line[PATH_MAX + 32];
    static int slot[SLOTS];
    char target[PATH_MAX];
    struct stat st;
    long ops = 0;
    for (int i = 0; i < SLOTS; i++) slot[i] = -1;
    while (fgets(line, sizeof line, in)) {
        size_t len = strlen(line);
        if (len && line[len - 1] == '\n') line[--len] = 0;
        if (len < 3) continue;
        char op = line[0];
        char *rest = line + 2;
        int n = -1;
        if (strchr("OXgfls", op)) {
            n = (int)strtol(rest, &rest, 10);
            if (n < 0 || n >= SLOTS) continue;
            if (*rest == ' ') rest++;
        }
        int at = n >= 0 && slot[n] >= 0 ? slot[n] : AT_FDCWD;
        ops++;
        switch (op) {
        case 'O':
            if (slot[n] >= 0) close(slot[n]);
            slot[n] = open(rest, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            break;
        case 'X':
            if (slot[n] >= 0) close(slot[n]);
            slot[n] = -1;
            break;
        case 'g':
            if (slot[n] >= 0) {
                while (syscall(SYS_getdents64, slot[n], buf, sizeof buf) > 0) {}
            }
            break;
        case 'f': {
            int fd = openat(at, rest, O_RDONLY | O_CLOEXEC);
            if (fd >= 0) read_file(fd, rest);
            break;
        }
        case 'F': {
            int fd = open(rest, O_RDONLY | O_CLOEXEC);
            if (fd >= 0) read_file(fd, rest);
            break;
        }
        case 'l': (void)readlinkat(at, rest, target, sizeof target); break;
        case 'R': (void)readlink(rest, target, sizeof target); break;
        case 's': (void)fstatat(at, rest, &st, AT_SYMLINK_NOFOLLOW); break;
        case 'S': (void)fstatat(AT_FDCWD, rest, &st, AT_SYMLINK_NOFOLLOW); break;
        default: ops--; break;
        }
    }
    printf("%ld operations\n", ops);
    return 0;
}
