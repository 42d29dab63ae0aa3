// What every form of the console does: submits once at a time, keeps what was typed when the server says
// no, and shows the server's problem under the field it names (or above the buttons when it names none of
// the form's fields).
import { useState, type FormEvent } from 'react';
import { isProblem } from '../api/client';
import { ProblemMessage, problemText } from './Problem';

export function useSubmit(action: () => Promise<unknown>) {
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await action();
    } catch (err) {
      setError(err); // what was typed stays
    } finally {
      setBusy(false);
    }
  };
  return { error, busy, submit };
}

// The problem for a field: the API's `field` as it is, or mapped (`layers[1].handoff` to a layer's field).
export function problemFor(error: unknown, field: string, place: (f: string) => string = (f) => f): string | undefined {
  return isProblem(error) && error.field !== undefined && place(error.field) === field ? problemText(error) : undefined;
}

// The attributes of an input whose problem FieldProblem shows under it with the id `${id}-problem`.
export function invalidAttrs(problem: string | undefined, id: string) {
  return { 'aria-invalid': Boolean(problem), 'aria-describedby': problem ? `${id}-problem` : undefined };
}

// A problem no field of the form shows, then the form's buttons.
export function FormFooter({ error, placed, busy, submitLabel, onCancel }: { error: unknown; placed: boolean; busy: boolean; submitLabel: string; onCancel: () => void }) {
  return (
    <>
      {Boolean(error) && !placed && <ProblemMessage error={error} />}
      <div className="row">
        <button className="primary" type="submit" disabled={busy}>
          {submitLabel}
        </button>
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </>
  );
}
