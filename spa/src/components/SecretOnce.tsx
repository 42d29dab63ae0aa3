// A secret the server shows once (a device token, an API key): copy it now, it is not shown again.
import { useState } from 'react';

export function SecretOnce({ label, value }: { label: string; value: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <div className="panel" role="status">
      <p>
        <strong>{label}</strong> — shown once; copy it now.
      </p>
      <div className="row">
        <code className="mono" data-testid="secret-value">
          {value}
        </code>
        <button
          onClick={async () => {
            await navigator.clipboard.writeText(value);
            setCopied(true);
          }}
        >
          {copied ? 'Copied' : 'Copy'}
        </button>
      </div>
    </div>
  );
}
