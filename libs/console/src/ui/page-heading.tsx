import type { ComponentChildren } from 'preact';

/** The page's h1; focusable from script so a route change can move focus to it. */
export function PageHeading({ children }: { children: ComponentChildren }) {
  return (
    <h1 class="page-heading" tabIndex={-1}>
      {children}
    </h1>
  );
}
