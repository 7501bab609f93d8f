/*
 * vfio-probe: asks the kernel's VFIO what QEMU's vfio-pci asks when it realizes a device, for one IOMMU group.
 *
 *   vfio-probe GROUP [BDF...]
 *
 * Opens /dev/vfio/vfio (VFIO_GET_API_VERSION, VFIO_CHECK_EXTENSION type1v2), the group file /dev/vfio/GROUP
 * (VFIO_GROUP_GET_STATUS: viable), VFIO_GROUP_SET_CONTAINER, VFIO_SET_IOMMU(VFIO_TYPE1v2_IOMMU), then for each
 * BDF VFIO_GROUP_GET_DEVICE_FD, VFIO_DEVICE_GET_INFO (the RESET flag) and VFIO_DEVICE_GET_PCI_HOT_RESET_INFO
 * (the devices a bus or slot reset hits: called with room for none, then with the count the ENOSPC answer gives),
 * and mmaps each BAR VFIO offers to map ("mmap": BAR → 0 or the errno, EBUSY when another owner holds the range).
 * Then, with the group closed again, the iommufd path QEMU's `-object iommufd` takes, for each BDF whose
 * vfio-dev/vfioN has a character device (CONFIG_VFIO_DEVICE_CDEV, Linux 6.6+): open /dev/vfio/devices/vfioN and
 * /dev/iommu, VFIO_DEVICE_BIND_IOMMUFD, IOMMU_IOAS_ALLOC, VFIO_DEVICE_ATTACH_IOMMUFD_PT ("cdev" in the JSON).
 * Those ioctls are defined here when the build machine's uapi headers predate them (values from
 * include/uapi/linux/vfio.h and iommufd.h of Linux 6.12).
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
#include <sys/mman.h>
#include <unistd.h>
#include <dirent.h>

#ifndef VFIO_DEVICE_BIND_IOMMUFD
struct vfio_device_bind_iommufd {
    __u32 argsz;
    __u32 flags;
    __s32 iommufd;
    __u32 out_devid;
};
#define VFIO_DEVICE_BIND_IOMMUFD _IO(VFIO_TYPE, VFIO_BASE + 18)
struct vfio_device_attach_iommufd_pt {
    __u32 argsz;
    __u32 flags;
    __u32 pt_id;
};
#define VFIO_DEVICE_ATTACH_IOMMUFD_PT _IO(VFIO_TYPE, VFIO_BASE + 19)
#endif
struct probe_iommu_ioas_alloc {
    __u32 size;
    __u32 flags;
    __u32 out_ioas_id;
};
#define PROBE_IOMMU_IOAS_ALLOC _IO(';', 0x81)

/* The cdev path for each BDF: prints ,"cdev":[{...}] (empty when no BDF has a cdev). */
static void probe_cdev(int argc, char **argv) {
    printf(",\"cdev\":[");
    int printed = 0;
    for (int i = 2; i < argc; i++) {
        char dir[160];
        snprintf(dir, sizeof dir, "/sys/bus/pci/devices/%s/vfio-dev", argv[i]);
        DIR *d = opendir(dir);
        if (!d) continue;
        char name[256] = "";
        struct dirent *e;
        while ((e = readdir(d))) {
            if (strncmp(e->d_name, "vfio", 4) == 0) snprintf(name, sizeof name, "%s", e->d_name);
        }
        closedir(d);
        if (!name[0]) continue;
        printf("%s{\"address\":\"%s\",\"device\":\"%s\"", printed++ ? "," : "", argv[i], name);
        char node[300];
        snprintf(node, sizeof node, "/dev/vfio/devices/%s", name);
        int dfd = open(node, O_RDWR | O_CLOEXEC);
        if (dfd < 0) {
            printf(",\"openErrno\":%d}", errno);
            continue;
        }
        int iommufd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
        if (iommufd < 0) {
            printf(",\"iommufdErrno\":%d}", errno);
            close(dfd);
            continue;
        }
        struct vfio_device_bind_iommufd bind = {.argsz = sizeof bind, .iommufd = iommufd};
        struct probe_iommu_ioas_alloc ioas = {.size = sizeof ioas};
        if (ioctl(dfd, VFIO_DEVICE_BIND_IOMMUFD, &bind) < 0) {
            printf(",\"bindErrno\":%d", errno);
        } else if (ioctl(iommufd, PROBE_IOMMU_IOAS_ALLOC, &ioas) < 0) {
            printf(",\"ioasErrno\":%d", errno);
        } else {
            struct vfio_device_attach_iommufd_pt attach = {.argsz = sizeof attach, .pt_id = ioas.out_ioas_id};
            if (ioctl(dfd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &attach) < 0) {
                printf(",\"attachErrno\":%d", errno);
            } else {
                struct vfio_device_info info = {.argsz = sizeof info};
                printf(",\"attached\":true");
                if (ioctl(dfd, VFIO_DEVICE_GET_INFO, &info) == 0) {
                    printf(",\"flags\":%u,\"reset\":%s", info.flags, (info.flags & VFIO_DEVICE_FLAGS_RESET) ? "true" : "false");
                }
            }
        }
        close(iommufd);
        close(dfd);
        printf("}");
    }
    printf("]");
}

static void field_errno(const char *name, int err, int *first) {
    printf("%s\"%s\":%d", *first ? "" : ",", name, err);
    *first = 0;
}

static void probe_group(int argc, char **argv, int group);

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: vfio-probe GROUP [BDF...]\n");
        return 2;
    }
    int group = atoi(argv[1]);
    printf("PROBE {\"group\":%d", group);
    printf(",\"iommufd\":%s", access("/dev/iommu", F_OK) == 0 ? "true" : "false");
    probe_group(argc, argv, group);
    probe_cdev(argc, argv);
    printf("}\n");
    return 0;
}

/* The group path: prints its fields and closes what it opened (a cdev cannot be opened while its group is). */
static void probe_group(int argc, char **argv, int group) {
    int first = 0;

    int container = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
    if (container < 0) {
        field_errno("containerErrno", errno, &first);
        return;
    }
    printf(",\"apiVersion\":%d", ioctl(container, VFIO_GET_API_VERSION));
    printf(",\"type1v2\":%s", ioctl(container, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU) > 0 ? "true" : "false");

    char path[64];
    snprintf(path, sizeof path, "/dev/vfio/%d", group);
    int gfd = open(path, O_RDWR | O_CLOEXEC);
    if (gfd < 0) {
        /* No group file: no VFIO driver holds any member (ENOENT), or another process has it open (EBUSY). */
        field_errno("groupErrno", errno, &first);
        return;
    }
    struct vfio_group_status status = {.argsz = sizeof status};
    if (ioctl(gfd, VFIO_GROUP_GET_STATUS, &status) < 0) {
        field_errno("statusErrno", errno, &first);
        return;
    }
    int viable = (status.flags & VFIO_GROUP_FLAGS_VIABLE) != 0;
    printf(",\"viable\":%s", viable ? "true" : "false");
    if (ioctl(gfd, VFIO_GROUP_SET_CONTAINER, &container) < 0) {
        /* EPERM: the group is not viable (a member is bound to a host driver). */
        field_errno("setContainerErrno", errno, &first);
        return;
    }
    if (ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU) < 0) {
        field_errno("setIOMMUErrno", errno, &first);
        return;
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
        /* What QEMU does next: mmap each BAR it can (vfio_pci_core_mmap requests the BAR's region then; a range
         * another driver holds, a firmware framebuffer, makes it fail with EBUSY: "BAR N: can't reserve"). */
        printf(",\"mmap\":{");
        int firstBar = 1;
        for (unsigned bar = VFIO_PCI_BAR0_REGION_INDEX; bar <= VFIO_PCI_BAR5_REGION_INDEX; bar++) {
            struct vfio_region_info region = {.argsz = sizeof region, .index = bar};
            if (ioctl(dfd, VFIO_DEVICE_GET_REGION_INFO, &region) < 0 || region.size == 0 || !(region.flags & VFIO_REGION_INFO_FLAG_MMAP)) continue;
            void *p = mmap(NULL, region.size, PROT_READ, MAP_SHARED, dfd, (off_t)region.offset);
            printf("%s\"%u\":%d", firstBar ? "" : ",", bar, p == MAP_FAILED ? errno : 0);
            firstBar = 0;
            if (p != MAP_FAILED) munmap(p, region.size);
        }
        printf("}");
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
    printf("]");
    close(gfd);
    close(container);
}
