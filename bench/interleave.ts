// How every timed comparison repeats its sides: one warm-up run of each (dropped), then `reps` rounds
// in which each side runs once, the side that goes first rotating from round to round, so that all
// sides share the machine's slow spells and none always runs right after another.
export async function interleaved<T>(reps: number, sides: (() => Promise<T>)[]): Promise<T[][]> {
  for (const side of sides) await side();
  const samples = sides.map((): T[] => []);
  for (let i = 0; i < reps; i++) {
    for (let k = 0; k < sides.length; k++) {
      const s = (i + k) % sides.length;
      samples[s].push(await sides[s]());
    }
  }
  return samples;
}
