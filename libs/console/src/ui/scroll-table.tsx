import type { ComponentChildren } from 'preact';
import { useId } from 'preact/hooks';

/**
 * A captioned table inside a horizontally scrolling, keyboard-focusable frame, so wide tables stay readable
 * at phone width without widening the page.
 */
export function ScrollTable({
  caption,
  columns,
  children,
  captionHidden = false,
}: {
  caption: string;
  columns: string[];
  children: ComponentChildren;
  captionHidden?: boolean;
}) {
  const id = useId();
  return (
    <div class="table-scroll" tabIndex={0} role="region" aria-labelledby={id}>
      <table>
        <caption id={id} class={captionHidden ? 'visually-hidden' : undefined}>
          {caption}
        </caption>
        <thead>
          <tr>
            {columns.map((column) => (
              <th scope="col" key={column}>
                {column}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
    </div>
  );
}
