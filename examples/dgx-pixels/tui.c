/* WS-08 TUI core: renders an RGBA sprite (raw, from sprite-raw.py) into terminal cells, two pixels
 * per cell with the upper-half-block character and 24-bit ANSI colours, like a sprite preview pane.
 * usage: tui <sprite.rgba> <width> <height> <out.ans>   — prints {"cells", "bytes", "opaque"} as JSON. */
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
  if (argc < 5) { fprintf(stderr, "usage: %s <sprite.rgba> <w> <h> <out.ans>\n", argv[0]); return 2; }
  int w = atoi(argv[2]), h = atoi(argv[3]);
  unsigned char *px = malloc((size_t)w * h * 4);
  FILE *in = fopen(argv[1], "rb");
  if (!in || !px || fread(px, 4, (size_t)w * h, in) != (size_t)w * h) { fprintf(stderr, "cannot read %dx%d RGBA from %s\n", w, h, argv[1]); return 1; }
  fclose(in);
  FILE *out = fopen(argv[4], "w");
  if (!out) { perror(argv[4]); return 1; }
  long cells = 0, opaque = 0;
  for (int y = 0; y < h; y += 2) {
    for (int x = 0; x < w; x++) {
      unsigned char *top = px + ((size_t)y * w + x) * 4;
      unsigned char *bot = y + 1 < h ? top + (size_t)w * 4 : top;
      if (top[3] < 128 && bot[3] < 128) { fputs("\x1b[0m ", out); cells++; continue; }
      opaque += (top[3] >= 128) + (bot[3] >= 128);
      fprintf(out, "\x1b[38;2;%d;%d;%dm\x1b[48;2;%d;%d;%dm\xe2\x96\x80", top[0], top[1], top[2], bot[0], bot[1], bot[2]);
      cells++;
    }
    fputs("\x1b[0m\n", out);
  }
  long bytes = ftell(out);
  fclose(out);
  printf("{\"cells\": %ld, \"bytes\": %ld, \"opaque\": %ld}\n", cells, bytes, opaque);
  free(px);
  return 0;
}
