
//
// shell: 
// echo 'memory map me' > mmap.txt
//

#include <stdlib.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/mman.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>

int main(int argc, char** argv) {
    int fd;
    char* addr;
    char buffer[1024] = {'\0'};
    char buffer2[1024] = {'\0'};
    char* messege = "txt changed!\n";
    struct stat sb;
    fd = open("mmap.txt", O_RDWR);
    if (fd == -1) {
        perror("shmget error!");
        exit(1);
    }

    if (fstat(fd, &sb) == -1) {
        perror("shmget error!");
        exit(1);
    }
    addr = mmap(NULL, sb.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (addr == MAP_FAILED) {
        perror("mmap error!");
        exit(1);
    }
    strncpy(buffer, addr, sb.st_size);
    printf("read from mem: %s", buffer);

    // change memory mapped
    strncpy(addr, messege, strlen(messege));
    read(fd, buffer2, strlen(messege));
    printf("read from mem: %s", buffer2);
}
