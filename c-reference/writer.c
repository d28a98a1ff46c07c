// writer.c
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
    char* message = "shared memory here!\n";
    shmid = shmget(SHM_KEY, 1024, IPC_CREAT | S_IRUSR | S_IWUSR);
    if (shmid == -1) {
        perror("shmget error!");
        exit(1);
    }
    shmp = shmat(shmid, NULL, 0);
    if (shmp == (void*) - 1) {
        perror("shmat error!");
        exit(-1);
    }
    strncpy(shmp, message, strlen(message));
    sleep(30);
}
