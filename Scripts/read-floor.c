/* The read floor for Scripts/bench: the least any inspector of ROOT must do. For every entry of
 * ROOT/sys/bus/pci/devices it reads the whole `config` file and reads the `iommu_group` and `driver`
 * links; it decodes nothing and prints the counts. Usage: read-floor ROOT */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc != 2) { fprintf(stderr, "usage: read-floor ROOT\n"); return 64; }
    char path[PATH_MAX], target[PATH_MAX], buf[4096];
    snprintf(path, sizeof path, "%s/sys/bus/pci/devices", argv[1]);
    DIR *dir = opendir(path);
    if (!dir) { perror(path); return 3; }
    long functions = 0, bytes = 0;
    struct dirent *e;
    while ((e = readdir(dir))) {
        if (e->d_name[0] == '.') continue;
        functions++;
        snprintf(path, sizeof path, "%s/sys/bus/pci/devices/%s/config", argv[1], e->d_name);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd >= 0) {
            ssize_t n;
            while ((n = read(fd, buf, sizeof buf)) > 0) bytes += n;
            close(fd);
        }
        static const char *links[] = { "iommu_group", "driver" };
        for (int i = 0; i < 2; i++) {
            snprintf(path, sizeof path, "%s/sys/bus/pci/devices/%s/%s", argv[1], e->d_name, links[i]);
            (void)readlink(path, target, sizeof target);
        }
    }
    closedir(dir);
    printf("%ld functions, %ld config bytes\n", functions, bytes);
    return 0;
}
