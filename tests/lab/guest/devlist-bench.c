/* devlist-bench HOST PORT ROUNDS [SECONDS]: up to ROUNDS USB/IP device-list round trips (connect, OP_REQ_DEVLIST,
 * read the whole reply to EOF, close), one at a time, as `usbip list -r` does, stopping after SECONDS (default 30)
 * so that a slow guest (TCG on a loaded host) still ends in time. Prints one line (rounds: those made):
 *   rounds=N failures=N per_second=R p50_us=X p99_us=Y bytes=B
 * The same client for the kernel's usbipd and for VirtTools' server, so the two figures compare. Static, built at
 * lab build time. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now_us(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static int compare(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* One round trip; the reply's size, or -1. */
static long round_trip(const struct sockaddr_in *to) {
  static const unsigned char request[8] = {0x01, 0x11, 0x80, 0x05, 0, 0, 0, 0}; /* v1.1.1, OP_REQ_DEVLIST, status 0 */
  unsigned char buffer[4096];
  long total = 0;
  ssize_t n;
  int one = 1, fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (connect(fd, (const struct sockaddr *)to, sizeof *to) != 0 || write(fd, request, sizeof request) != sizeof request) {
    close(fd);
    return -1;
  }
  while ((n = read(fd, buffer, sizeof buffer)) > 0) total += n;
  close(fd);
  return n < 0 || total < 12 ? -1 : total;
}

int main(int argc, char **argv) {
  if (argc != 4 && argc != 5) { fprintf(stderr, "usage: devlist-bench HOST PORT ROUNDS [SECONDS]\n"); return 2; }
  struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((unsigned short)atoi(argv[2]))};
  int rounds = atoi(argv[3]), seconds = argc == 5 ? atoi(argv[4]) : 30, failures = 0, done = 0, made = 0;
  if (inet_pton(AF_INET, argv[1], &to.sin_addr) != 1 || rounds <= 0 || rounds > 100000 || seconds <= 0 || seconds > 3600) {
    fprintf(stderr, "bad arguments\n");
    return 2;
  }
  double *latency = calloc((size_t)rounds, sizeof *latency);
  long bytes = 0;
  if (!latency) return 1;
  round_trip(&to); /* warm-up, not counted */
  double start = now_us();
  for (; made < rounds && now_us() - start < seconds * 1e6; made++) {
    double t = now_us();
    long size = round_trip(&to);
    if (size < 0) { failures++; continue; }
    bytes = size;
    latency[done++] = now_us() - t;
  }
  double elapsed = now_us() - start;
  qsort(latency, (size_t)done, sizeof *latency, compare);
  printf("rounds=%d failures=%d per_second=%.1f p50_us=%.0f p99_us=%.0f bytes=%ld\n", made, failures,
         done / (elapsed / 1e6), done ? latency[done / 2] : 0, done ? latency[(done * 99) / 100] : 0, bytes);
  return failures ? 1 : 0;
}
