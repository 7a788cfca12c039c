/* WS-01 Hardware Baselines: memory bandwidth (STREAM-style copy and triad), best of several passes.
 * usage: membw <out.json> [MiB per array, default 64]   — writes {"copy_gbps", "triad_gbps", ...}. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
  if (argc < 2) { fprintf(stderr, "usage: %s <out.json> [MiB]\n", argv[0]); return 2; }
  size_t mib = argc > 2 ? (size_t)atoi(argv[2]) : 64;
  size_t n = mib * 1024 * 1024 / sizeof(double);
  double *a = malloc(n * sizeof(double)), *b = malloc(n * sizeof(double)), *c = malloc(n * sizeof(double));
  if (!a || !b || !c) { fprintf(stderr, "out of memory for %zu MiB arrays\n", mib); return 1; }
  for (size_t i = 0; i < n; i++) { a[i] = 1.0; b[i] = 2.0; c[i] = 0.0; }
  double best_copy = 1e30, best_triad = 1e30;
  for (int pass = 0; pass < 5; pass++) {
    double t0 = now();
    for (size_t i = 0; i < n; i++) c[i] = a[i];
    double t1 = now();
    for (size_t i = 0; i < n; i++) a[i] = b[i] + 3.0 * c[i];
    double t2 = now();
    if (t1 - t0 < best_copy) best_copy = t1 - t0;
    if (t2 - t1 < best_triad) best_triad = t2 - t1;
  }
  double checksum = 0;
  for (size_t i = 0; i < n; i += 4096) checksum += a[i];  /* keeps the loops from being optimised away */
  double bytes = (double)n * sizeof(double);
  FILE *f = fopen(argv[1], "w");
  if (!f) { perror(argv[1]); return 1; }
  fprintf(f, "{\"copy_gbps\": %.3f, \"triad_gbps\": %.3f, \"mib\": %zu, \"passes\": 5, \"checksum\": %.1f}\n",
          2 * bytes / best_copy / 1e9, 3 * bytes / best_triad / 1e9, mib, checksum);
  fclose(f);
  printf("copy %.2f GB/s, triad %.2f GB/s (%zu MiB arrays)\n", 2 * bytes / best_copy / 1e9, 3 * bytes / best_triad / 1e9, mib);
  free(a); free(b); free(c);
  return 0;
}
