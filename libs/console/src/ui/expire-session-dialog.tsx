import { useEffect, useRef } from 'preact/hooks';

/**
 * Asks before expiring a session. A modal <dialog> keeps focus inside it, Escape cancels, and focus starts on
 * "Cancel" so a stray Enter does not expire anything.
 */
export function ExpireSessionDialog({
  open,
  busy,
  error,
  sessionUuid,
  onConfirm,
  onCancel,
}: {
  open: boolean;
  busy: boolean;
  error: string | null;
  sessionUuid: string;
  onConfirm: () => void;
  onCancel: () => void;
}) {
  const dialog = useRef<HTMLDialogElement>(null);
  const cancel = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    const element = dialog.current;
    if (!element) return;
    if (open && !element.open) {
      element.showModal();
      cancel.current?.focus();
    } else if (!open && element.open) {
      element.close();
    }
  }, [open]);

  return (
    <dialog
      ref={dialog}
      class="dialog"
      aria-labelledby="expire-dialog-title"
      aria-describedby="expire-dialog-text"
      onCancel={(event) => {
        event.preventDefault();
        if (!busy) onCancel();
      }}
    >
      <h2 id="expire-dialog-title">Expire this session?</h2>
      <p id="expire-dialog-text">
        Session <code>{sessionUuid}</code> stops connecting its parties at once: calls and messages to its
        virtual number are no longer forwarded, and the number returns to the pool. This cannot be undone.
      </p>
      {error ? (
        <p class="alert alert-error" role="alert">
          {error}
        </p>
      ) : null}
      <div class="dialog-actions">
        {/* aria-disabled rather than disabled: a disabled button would drop the focus out of the dialog. */}
        <button type="button" class="button-danger" aria-disabled={busy} onClick={() => !busy && onConfirm()}>
          {busy ? 'Expiring…' : 'Expire'}
        </button>
        <button
          type="button"
          class="button-secondary"
          ref={cancel}
          aria-disabled={busy}
          onClick={() => !busy && onCancel()}
        >
          Cancel
        </button>
      </div>
    </dialog>
  );
}
