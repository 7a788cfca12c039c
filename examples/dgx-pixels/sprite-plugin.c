/* WS-14 engine plugin: a shared library with a C ABI an engine (Bevy through FFI) loads at runtime.
 * It palette-maps RGBA pixels in place to a fixed 4-colour "Game Boy" ramp. */
#include <stdint.h>
#include <stddef.h>

const char *sprite_plugin_name(void) { return "dgx-pixels-gb-ramp"; }
int sprite_plugin_abi(void) { return 1; }

size_t sprite_plugin_apply(uint8_t *rgba, size_t pixels) {
  static const uint8_t ramp[4][3] = {{15, 56, 15}, {48, 98, 48}, {139, 172, 15}, {155, 188, 15}};
  size_t changed = 0;
  for (size_t i = 0; i < pixels; i++) {
    uint8_t *p = rgba + i * 4;
    if (p[3] < 128) continue;
    int luma = (p[0] * 299 + p[1] * 587 + p[2] * 114) / 1000;
    const uint8_t *c = ramp[luma * 4 / 256];
    p[0] = c[0]; p[1] = c[1]; p[2] = c[2];
    changed++;
  }
  return changed;
}
