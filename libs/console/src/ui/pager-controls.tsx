import type { PageInfo } from '../logic/list-paging';

/** "Previous" and "Next" for a Plivo-style list, with where the page sits. */
export function PagerControls({
  page,
  label,
  disabled,
  onOffset,
}: {
  page: PageInfo;
  label: string;
  disabled: boolean;
  onOffset: (offset: number) => void;
}) {
  return (
    <nav class="pager" aria-label={label}>
      <button
        type="button"
        class="button-secondary"
        disabled={disabled || page.previousOffset === null}
        onClick={() => page.previousOffset !== null && onOffset(page.previousOffset)}
      >
        Previous
      </button>
      <span class="pager-text" aria-live="polite">
        {page.text}
      </span>
      <button
        type="button"
        class="button-secondary"
        disabled={disabled || page.nextOffset === null}
        onClick={() => page.nextOffset !== null && onOffset(page.nextOffset)}
      >
        Next
      </button>
    </nav>
  );
}
