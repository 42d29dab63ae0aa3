// An API problem shown where it happened: the server's own words, what to do for the statuses a user can
// act on (429: when to retry; 403: the role; 0: the connection).
import { isProblem } from '../api/client';

export function problemText(error: unknown): string {
  if (!isProblem(error)) return error instanceof Error ? error.message : String(error);
  const detail = error.detail || error.title;
  switch (error.status) {
    case 403:
      return `Not allowed: ${detail}`;
    case 429:
      return error.retryAfterS ? `${detail} (retry in ${error.retryAfterS} s)` : detail;
    case 503:
      return `Pulse is busy: ${detail}${error.retryAfterS ? ` (retry in ${error.retryAfterS} s)` : ''}`;
    default:
      return detail;
  }
}

// The problem of a field (the API names it in `field`), for the input that caused it.
export function fieldProblem(error: unknown, field: string): string | undefined {
  return isProblem(error) && error.field === field ? problemText(error) : undefined;
}

export function ProblemMessage({ error, id }: { error: unknown; id?: string }) {
  if (!error) return null;
  return (
    <p className="problem" role="alert" id={id}>
      {problemText(error)}
    </p>
  );
}
