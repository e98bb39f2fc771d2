/** An API error, shown verbatim, with an optional way to try again. */
export function ErrorAlert({
  message,
  onRetry,
  context,
}: {
  message: string;
  onRetry?: () => void;
  context?: string;
}) {
  return (
    <div class="alert alert-error" role="alert">
      <p>
        {context ? <strong>{context}: </strong> : null}
        {message}
      </p>
      {onRetry ? (
        <button type="button" class="button-secondary" onClick={onRetry}>
          Try again
        </button>
      ) : null}
    </div>
  );
}
