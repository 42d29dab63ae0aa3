// A choice of the IANA time zones the browser knows (UTC first), for sites, schedules and maintenance windows.
const TIME_ZONES: string[] = (Intl as unknown as { supportedValuesOf?: (k: string) => string[] }).supportedValuesOf?.('timeZone') ?? ['UTC'];

interface Props {
  id: string;
  value: string;
  onChange: (tz: string) => void;
  invalid?: boolean;
  describedBy?: string;
}

export function TimeZoneSelect({ id, value, onChange, invalid, describedBy }: Props) {
  // A zone the server holds that this browser does not list stays choosable.
  const zones = ['UTC', ...TIME_ZONES.filter((z) => z !== 'UTC')];
  if (!zones.includes(value)) zones.unshift(value);
  return (
    <select id={id} value={value} aria-invalid={invalid || undefined} aria-describedby={describedBy} onChange={(e) => onChange(e.target.value)}>
      {zones.map((z) => (
        <option key={z}>{z}</option>
      ))}
    </select>
  );
}
