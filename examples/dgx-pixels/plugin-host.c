/* WS-14: a host that loads the plugin like an engine would (dlopen), checks its ABI version and runs
 * it over a sprite. usage: plugin-host <libplugin.so> <sprite.rgba> <w> <h>  — prints JSON. */
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
  if (argc < 5) { fprintf(stderr, "usage: %s <plugin.so> <sprite.rgba> <w> <h>\n", argv[0]); return 2; }
  void *lib = dlopen(argv[1], RTLD_NOW);
  if (!lib) { fprintf(stderr, "dlopen: %s\n", dlerror()); return 1; }
  const char *(*name)(void) = (const char *(*)(void))dlsym(lib, "sprite_plugin_name");
  int (*abi)(void) = (int (*)(void))dlsym(lib, "sprite_plugin_abi");
  size_t (*apply)(uint8_t *, size_t) = (size_t (*)(uint8_t *, size_t))dlsym(lib, "sprite_plugin_apply");
  if (!name || !abi || !apply) { fprintf(stderr, "plugin is missing a symbol: %s\n", dlerror()); return 1; }
  if (abi() != 1) { fprintf(stderr, "plugin ABI %d, host expects 1\n", abi()); return 1; }
  size_t n = (size_t)atoi(argv[3]) * atoi(argv[4]);
  uint8_t *px = malloc(n * 4);
  FILE *in = fopen(argv[2], "rb");
  if (!in || !px || fread(px, 4, n, in) != n) { fprintf(stderr, "cannot read sprite %s\n", argv[2]); return 1; }
  fclose(in);
  size_t changed = apply(px, n);
  printf("{\"plugin\": \"%s\", \"abi\": %d, \"pixels\": %zu, \"mapped\": %zu}\n", name(), abi(), n, changed);
  free(px);
  dlclose(lib);
  return 0;
}
