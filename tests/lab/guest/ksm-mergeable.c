/* ksm-mergeable PAGES: maps PAGES identical pages, marks them MADV_MERGEABLE for KSM, prints "ready <pid>" and
 * sleeps until it is killed. Built static at lab build time: the guest has no libc tools for madvise. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    long pages = argc > 1 ? atol(argv[1]) : 1024;
    long page_size = sysconf(_SC_PAGESIZE);
    size_t length = (size_t)pages * (size_t)page_size;
    unsigned char *area = mmap(NULL, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (area == MAP_FAILED) { perror("mmap"); return 1; }
    /* the same non-zero bytes in every page: KSM merges them into one (zero pages would go to use_zero_pages) */
    for (long i = 0; i < pages; i++) memset(area + i * page_size, 0x5a, (size_t)page_size);
    if (madvise(area, length, MADV_MERGEABLE) != 0) { perror("madvise(MADV_MERGEABLE)"); return 1; }
    printf("ready %d\n", (int)getpid());
    fflush(stdout);
    for (;;) pause();
}
