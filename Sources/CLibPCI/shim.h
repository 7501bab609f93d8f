#ifndef VFIO_INSPECT_CLIBPCI_SHIM_H
#define VFIO_INSPECT_CLIBPCI_SHIM_H
#include <pci/pci.h>
#endif
