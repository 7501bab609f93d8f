/*
 * vfio-probe: asks the kernel's VFIO what QEMU's vfio-pci asks when it realizes a device, for one IOMMU group.
 *
 *   vfio-probe GROUP [BDF...]
 *
 * Opens /dev/vfio/vfio (VFIO_GET_API_VERSION, VFIO_CHECK_EXTENSION type1v2), the group file /dev/vfio/GROUP
 * (VFIO_GROUP_GET_STATUS: viable), VFIO_GROUP_SET_CONTAINER, VFIO_SET_IOMMU(VFIO_TYPE1v2_IOMMU), then for each
 * BDF VFIO_GROUP_GET_DEVICE_FD, VFIO_DEVICE_GET_INFO (the RESET flag) and VFIO_DEVICE_GET_PCI_HOT_RESET_INFO
 * (the devices a bus or slot reset hits: called with room for none, then with the count the ENOSPC answer gives).
 * Where the kernel has iommufd and the VFIO cdev (/dev/iommu, /dev/vfio/devices/vfioN; Linux 6.6+) it says so;
 * it does not use them (uapi/linux/vfio.h of the build machine decides what it can ask).
 *
 * Prints one line, `PROBE {json}`, and exits 0 whenever it could ask (the answers are in the JSON), 2 on usage.
 * Layouts and numbers: include/uapi/linux/vfio.h; semantics: drivers/vfio/group.c, drivers/vfio/pci/vfio_pci_core.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/vfio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

static void field_errno(const char *name, int err, int *first) {
    printf("%s\"%s\":%d", *first ? "" : ",", name, err);
    *first = 0;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: vfio-probe GROUP [BDF...]\n");
        return 2;
    }
    int group = atoi(argv[1]);
    int first = 1;
    printf("PROBE {\"group\":%d", group);
    first = 0;
    printf(",\"iommufd\":%s", access("/dev/iommu", F_OK) == 0 ? "true" : "false");

    int container = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
    if (container < 0) {
        field_errno("containerErrno", errno, &first);
        printf("}\n");
        return 0;
    }
    printf(",\"apiVersion\":%d", ioctl(container, VFIO_GET_API_VERSION));
    printf(",\"type1v2\":%s", ioctl(container, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU) > 0 ? "true" : "false");

    char path[64];
    snprintf(path, sizeof path, "/dev/vfio/%d", group);
    int gfd = open(path, O_RDWR | O_CLOEXEC);
    if (gfd < 0) {
        /* No group file: no VFIO driver holds any member (ENOENT), or another process has it open (EBUSY). */
        field_errno("groupErrno", errno, &first);
        printf("}\n");
        return 0;
    }
    struct vfio_group_status status = {.argsz = sizeof status};
    if (ioctl(gfd, VFIO_GROUP_GET_STATUS, &status) < 0) {
        field_errno("statusErrno", errno, &first);
        printf("}\n");
        return 0;
    }
    int viable = (status.flags & VFIO_GROUP_FLAGS_VIABLE) != 0;
    printf(",\"viable\":%s", viable ? "true" : "false");
    if (ioctl(gfd, VFIO_GROUP_SET_CONTAINER, &container) < 0) {
        /* EPERM: the group is not viable (a member is bound to a host driver). */
        field_errno("setContainerErrno", errno, &first);
        printf("}\n");
        return 0;
    }
    if (ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU) < 0) {
        field_errno("setIOMMUErrno", errno, &first);
        printf("}\n");
        return 0;
    }
    printf(",\"devices\":[");
    for (int i = 2; i < argc; i++) {
        printf("%s{\"address\":\"%s\"", i > 2 ? "," : "", argv[i]);
        int dfd = ioctl(gfd, VFIO_GROUP_GET_DEVICE_FD, argv[i]);
        if (dfd < 0) {
            printf(",\"deviceErrno\":%d}", errno);
            continue;
        }
        struct vfio_device_info info = {.argsz = sizeof info};
        if (ioctl(dfd, VFIO_DEVICE_GET_INFO, &info) < 0) {
            printf(",\"infoErrno\":%d", errno);
        } else {
            printf(",\"flags\":%u,\"reset\":%s", info.flags, (info.flags & VFIO_DEVICE_FLAGS_RESET) ? "true" : "false");
        }
        struct vfio_pci_hot_reset_info head = {.argsz = sizeof head};
        int rc = ioctl(dfd, VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, &head);
        if (rc < 0 && errno != ENOSPC) {
            /* ENODEV: neither a slot nor a bus reset can reach the device (pci_probe_reset_slot/bus). */
            printf(",\"hotResetErrno\":%d", errno);
        } else {
            size_t size = sizeof head + head.count * sizeof(struct vfio_pci_dependent_device);
            struct vfio_pci_hot_reset_info *full = calloc(1, size);
            if (full) full->argsz = (unsigned)size;
            if (full && ioctl(dfd, VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, full) == 0) {
                printf(",\"hotReset\":[");
                for (unsigned k = 0; k < full->count; k++) {
                    struct vfio_pci_dependent_device *d = &full->devices[k];
                    printf("%s{\"address\":\"%04x:%02x:%02x.%x\",\"group\":%u}", k ? "," : "", d->segment, d->bus,
                           d->devfn >> 3, d->devfn & 7, d->group_id);
                }
                printf("]");
            } else {
                printf(",\"hotResetErrno\":%d", errno);
            }
            free(full);
        }
        close(dfd);
        printf("}");
    }
    printf("]}\n");
    close(gfd);
    close(container);
    return 0;
}
