// Times as people read them on a wall screen: "3 min ago" with the exact time in a tooltip.
const units: [Intl.RelativeTimeFormatUnit, number][] = [
  ['day', 86400],
  ['hour', 3600],
  ['minute', 60],
  ['second', 1],
];
const relative = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });

export function ago(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return 'never';
  const s = Math.round((Date.parse(iso) - now) / 1000);
  for (const [unit, size] of units) {
    if (Math.abs(s) >= size || unit === 'second') return relative.format(Math.trunc(s / size), unit);
  }
  return iso;
}

export function exact(iso: string | null | undefined): string {
  return iso ? new Date(iso).toLocaleString() : '';
}
