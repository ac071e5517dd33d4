/** Levenshtein edit distance (insert, delete, substitute: 1 each). */
export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(
        (prev[j] ?? 0) + 1,
        (row[j - 1] ?? 0) + 1,
        (prev[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    prev = row;
  }
  return prev[b.length] ?? 0;
}

/**
 * The known subject closest to a mistyped one (case-insensitive, trailing dot ignored), when it is
 * close enough to be a typo: at most 2 edits, or a quarter of the name for long names.
 */
export function closestSubject(given: string, known: Iterable<string>): string | undefined {
  const norm = (s: string) => s.trim().toLowerCase().replace(/\.$/, '');
  const target = norm(given);
  let best: { name: string; d: number } | undefined;
  for (const name of new Set(known)) {
    const d = editDistance(target, norm(name));
    if (d > 0 && d <= Math.max(2, Math.floor(target.length / 4)) && (!best || d < best.d)) best = { name, d };
  }
  return best?.name;
}
