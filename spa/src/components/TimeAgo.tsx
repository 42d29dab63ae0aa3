import { ago, exact } from '../lib/time';

export function TimeAgo({ at }: { at: string | null | undefined }) {
  if (!at) return <span className="muted">never</span>;
  return (
    <time dateTime={at} title={exact(at)}>
      {ago(at)}
    </time>
  );
}
