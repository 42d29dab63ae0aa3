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

// A wall-clock time ("2027-03-28T02:30", as a datetime-local input holds it) in an IANA zone, as the
// instant it names (RFC 3339 UTC). A time the clocks skip is read with the offset before the change, like
// the server reads a handoff; a time shown twice is its first occurrence.
export function zonedToUtc(wall: string, zone: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(wall);
  if (!m) return '';
  const [y, mo, d, h, mi] = m.slice(1).map(Number) as [number, number, number, number, number];
  const asUtc = Date.UTC(y, mo - 1, d, h, mi);
  // The zone's offset at an instant, in ms (what the zone's clock shows minus UTC).
  const offsetAt = (t: number) => Date.parse(`${utcToZoned(new Date(t).toISOString(), zone)}:00Z`) - Math.floor(t / 60000) * 60000;
  const before = offsetAt(asUtc - 86400000 / 2);
  const after = offsetAt(asUtc + 86400000 / 2);
  // Of the two offsets around the wall time, the first that maps back to it, the larger first (the earlier
  // instant of a time shown twice); if neither does (a skipped time), the offset in force before the change.
  for (const offset of [Math.max(before, after), Math.min(before, after)]) {
    const t = asUtc - offset;
    if (utcToZoned(new Date(t).toISOString(), zone) === wall.slice(0, 16)) return new Date(t).toISOString();
  }
  return new Date(asUtc - before).toISOString();
}

// An instant as the wall-clock time of a zone, "YYYY-MM-DDTHH:MM" (a datetime-local input's value).
export function utcToZoned(iso: string, zone: string): string {
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone: zone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(new Date(iso));
  const part = (type: string) => parts.find((p) => p.type === type)?.value ?? '00';
  return `${part('year')}-${part('month')}-${part('day')}T${part('hour')}:${part('minute')}`;
}

// An instant in a zone for reading: "Mon 14 Jun, 09:00".
export function inZone(iso: string, zone: string): string {
  return new Date(iso).toLocaleString(undefined, { timeZone: zone, weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' });
}
