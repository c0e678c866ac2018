// Makes a small directory tree, then walks it and prints what it holds,
// sorted, with sizes: mkdir, fopen and fprintf, chdir, getcwd, opendir and
// readdir (getdents64), stat, a symbolic link, and a file removed again.
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int by_name(const void* a, const void* b)
{
    return strcmp(*(char* const*)a, *(char* const*)b);
}

static void list(const char* path, int depth)
{
    DIR* directory = opendir(path);
    if (directory == NULL) {
        perror(path);
        exit(1);
    }
    char* names[64];
    int count = 0;
    for (struct dirent* entry; (entry = readdir(directory)) != NULL;) {
        if (strcmp(entry->d_name, ".") != 0 && strcmp(entry->d_name, "..") != 0 && count < 64) {
            names[count++] = strdup(entry->d_name);
        }
    }
    closedir(directory);
    qsort(names, count, sizeof names[0], by_name);
    for (int i = 0; i < count; ++i) {
        char child[512];
        snprintf(child, sizeof child, "%s/%s", path, names[i]);
        struct stat info;
        if (lstat(child, &info) != 0) {
            perror(child);
            exit(1);
        }
        printf("%*s%s %s %lld\n", depth * 2, "", names[i],
               S_ISDIR(info.st_mode) ? "dir" : S_ISLNK(info.st_mode) ? "link" : "file",
               S_ISDIR(info.st_mode) ? 0LL : (long long)info.st_size);
        if (S_ISDIR(info.st_mode)) {
            list(child, depth + 1);
        }
        free(names[i]);
    }
}

int main(void)
{
    if (mkdir("tree", 0755) != 0 || mkdir("tree/branch", 0750) != 0 || chdir("tree") != 0) {
        perror("mkdir");
        return 1;
    }
    for (int i = 0; i < 3; ++i) {
        char name[32];
        snprintf(name, sizeof name, "branch/leaf%d.txt", i);
        FILE* leaf = fopen(name, "w");
        fprintf(leaf, "leaf number %d\n", i);
        fclose(leaf);
    }
    fclose(fopen("gone.txt", "w"));
    if (symlink("branch/leaf1.txt", "shortcut") != 0 || unlink("gone.txt") != 0) {
        perror("symlink");
        return 1;
    }
    char here[512];
    if (getcwd(here, sizeof here) == NULL || chdir("..") != 0) {
        perror("getcwd");
        return 1;
    }
    printf("made %s\n", strrchr(here, '/') + 1);
    list("tree", 0);
    return 0;
}
