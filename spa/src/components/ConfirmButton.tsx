// A button whose action needs a second, explicit yes in a modal dialog (decommission, revoke).
import { useRef, useState } from 'react';
import { ProblemMessage } from './Problem';

interface Props {
  label: string;
  title: string;
  message: string;
  confirmLabel: string;
  onConfirm: () => Promise<unknown>;
  danger?: boolean;
}

export function ConfirmButton({ label, title, message, confirmLabel, onConfirm, danger }: Props) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const titleId = `confirm-${label.replace(/\W+/g, '-').toLowerCase()}`;

  const confirm = async () => {
    setBusy(true);
    setError(null);
    try {
      await onConfirm();
      dialog.current?.close();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      <button className={danger ? 'danger' : undefined} onClick={() => dialog.current?.showModal()}>
        {label}
      </button>
      <dialog ref={dialog} aria-labelledby={titleId}>
        <h2 id={titleId}>{title}</h2>
        <p>{message}</p>
        <ProblemMessage error={error} />
        <div className="row">
          <button className={danger ? 'danger' : 'primary'} onClick={confirm} disabled={busy}>
            {confirmLabel}
          </button>
          <button onClick={() => dialog.current?.close()}>Cancel</button>
        </div>
      </dialog>
    </>
  );
}
