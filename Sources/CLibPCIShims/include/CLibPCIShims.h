#ifndef VFIO_INSPECT_CLIBPCI_SHIMS_H
#define VFIO_INSPECT_CLIBPCI_SHIMS_H

#include <stddef.h>
#include <pci/pci.h>

/*
 * libpci reports fatal problems through pci_access->error, which must not
 * return (the default prints and calls exit(1)). Swift cannot provide such a
 * callback safely, so each libpci entry point that can fail is wrapped here:
 * the wrapper sets a jump target, the installed handler formats the message
 * and jumps back, and only C frames ever lie between the two.
 *
 * Each wrapper returns 0 on success and -1 when libpci gave up; the message is
 * then in errbuf. After a -1 the pci_access must be treated as poisoned.
 */

/* Installs the recording error and warning handlers (no pci_init needed for name lookups). */
void vi_install_handlers(struct pci_access *a);

int vi_init(struct pci_access *a, char *errbuf, size_t errlen);
int vi_scan_bus(struct pci_access *a, char *errbuf, size_t errlen);

/* pci_read_block; *ok is set to libpci's own result (0 when the bytes are not there). */
int vi_read_block(struct pci_dev *d, int pos, unsigned char *buf, int len, int *ok,
                  char *errbuf, size_t errlen);

/* pci_lookup_name is varargs, which Swift cannot call; this passes four int arguments
 * (libpci reads only as many as the flags ask for). Returns NULL on failure. */
const char *vi_lookup_name(struct pci_access *a, char *buf, int size, int flags,
                           int arg1, int arg2, int arg3, int arg4,
                           char *errbuf, size_t errlen);

/* The last warning libpci printed through the installed handler (empty if none). */
const char *vi_last_warning(void);

#endif
