// reader.c
#include <stdlib.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/shm.h>
#include <string.h>
#include <unistd.h>

#define SHM_KEY 0x1234

int main(int argc, char** argv) {
    int shmid;
    char* shmp;
    char buffer[1024];
    shmid = shmget(SHM_KEY, 0, 0);
    if (shmid == -1) {
        perror("shmget error!");
        exit(1);
    }
    shmp = (char*)shmat(shmid, NULL, SHM_RDONLY);
    if (shmp == (char*) - 1) {
        perror("shmat error!");
        exit(-1);
    }
    strncpy(buffer, shmp, 20);
    buffer[20] = '\0';
    printf("%s\n", buffer);
}
