#include "CLibPCIShims.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

struct vi_guard {
    jmp_buf target;
    char *errbuf;
    size_t errlen;
};

static _Thread_local struct vi_guard *current_guard;
static _Thread_local char last_warning[512];

static void PCI_NONRET vi_error(char *msg, ...)
{
    struct vi_guard *guard = current_guard;
    va_list args;
    if (guard == NULL) {
        /* Not reachable through this module's wrappers; keep libpci's own contract. */
        va_start(args, msg);
        fputs("vfio-inspect: libpci: ", stderr);
        vfprintf(stderr, msg, args);
        fputc('\n', stderr);
        va_end(args);
        _exit(70);
    }
    va_start(args, msg);
    if (guard->errbuf != NULL && guard->errlen > 0)
        vsnprintf(guard->errbuf, guard->errlen, msg, args);
    va_end(args);
    longjmp(guard->target, 1);
}

static void vi_warning(char *msg, ...)
{
    va_list args;
    va_start(args, msg);
    vsnprintf(last_warning, sizeof last_warning, msg, args);
    va_end(args);
}

static void vi_debug(char *msg, ...)
{
    (void)msg;
}

void vi_install_handlers(struct pci_access *a)
{
    a->error = vi_error;
    a->warning = vi_warning;
    a->debug = vi_debug;
    a->debugging = 0;
}

const char *vi_last_warning(void)
{
    return last_warning;
}

#define VI_GUARDED(errbuf, errlen, body)                 \
    do {                                                 \
        struct vi_guard guard;                           \
        struct vi_guard *saved = current_guard;          \
        guard.errbuf = (errbuf);                         \
        guard.errlen = (errlen);                         \
        if ((errbuf) != NULL && (errlen) > 0)            \
            (errbuf)[0] = 0;                             \
        if (setjmp(guard.target) != 0) {                 \
            current_guard = saved;                       \
            return -1;                                   \
        }                                                \
        current_guard = &guard;                          \
        body;                                            \
        current_guard = saved;                           \
    } while (0)

int vi_init(struct pci_access *a, char *errbuf, size_t errlen)
{
    vi_install_handlers(a);
    VI_GUARDED(errbuf, errlen, pci_init(a));
    return 0;
}

int vi_scan_bus(struct pci_access *a, char *errbuf, size_t errlen)
{
    VI_GUARDED(errbuf, errlen, pci_scan_bus(a));
    return 0;
}

int vi_read_block(struct pci_dev *d, int pos, unsigned char *buf, int len, int *ok,
                  char *errbuf, size_t errlen)
{
    volatile int result = 0;
    VI_GUARDED(errbuf, errlen, result = pci_read_block(d, pos, buf, len));
    *ok = result;
    return 0;
}

const char *vi_lookup_name(struct pci_access *a, char *buf, int size, int flags,
                           int arg1, int arg2, int arg3, int arg4,
                           char *errbuf, size_t errlen)
{
    struct vi_guard guard;
    struct vi_guard *saved = current_guard;
    char *volatile result = NULL;
    guard.errbuf = errbuf;
    guard.errlen = errlen;
    if (errbuf != NULL && errlen > 0)
        errbuf[0] = 0;
    if (setjmp(guard.target) != 0) {
        current_guard = saved;
        return NULL;
    }
    current_guard = &guard;
    result = pci_lookup_name(a, buf, size, flags, arg1, arg2, arg3, arg4);
    current_guard = saved;
    return result;
}
